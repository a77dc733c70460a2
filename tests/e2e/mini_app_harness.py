"""The webhook app with its Mini App, talking to the Bot API fake: signed initData for a
user, and the API calls the page makes (for the protocol tests and the browser test)."""

from __future__ import annotations

import json
import time

import httpx

from domain.init_data import sign

WEBAPP_URL = "https://voicescribe.example/app"


def init_data(token: str, user_id: int, *, age: float = 0, language: str = "en") -> str:
    """What Telegram hands the page for ``user_id``, signed with ``token``."""
    user = {"id": user_id, "first_name": "Ann", "language_code": language}
    fields = {
        "user": json.dumps(user),
        "auth_date": str(int(time.time() - age)),
        "query_id": f"AAH{user_id}",
    }
    return sign(fields, token)


def auth(data: str) -> dict[str, str]:
    return {"Authorization": f"tma {data}"}


async def start_upload(
    client: httpx.AsyncClient, data: str, size: int, name: str = "talk.ogg"
) -> httpx.Response:
    body = {"name": name, "size": size, "type": "audio/ogg"}
    return await client.post("/api/uploads", json=body, headers=auth(data))


async def put_bytes(
    client: httpx.AsyncClient, data: str, upload_id: str, offset: int, payload: bytes
) -> httpx.Response:
    return await client.put(
        f"/api/uploads/{upload_id}",
        params={"offset": offset},
        content=payload,
        headers=auth(data),
    )
