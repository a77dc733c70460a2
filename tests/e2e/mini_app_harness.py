"""The webhook app with its Mini App, talking to the Bot API fake: signed initData for a
user, and the API calls the page makes (for the protocol tests and the browser test)."""

from __future__ import annotations

import json
import struct
import time

import httpx
import numpy as np

from domain.init_data import sign
from tests.media_clips import SAMPLES, decode

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


def padded_wav(total_bytes: int) -> bytes:
    """A WAV of ``total_bytes`` holding the ten-second English sample: the rest is a RIFF
    ``JUNK`` chunk (padding every WAV reader skips). A large upload whose recognition
    takes seconds, not the minutes of 25 MB of real speech."""
    samples = decode((SAMPLES / "en-weather.ogg").read_bytes(), 16_000)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, 16_000, 32_000, 2, 16)
    fixed = 12 + 8 + len(fmt) + 8 + 8 + len(pcm)
    junk = max(0, total_bytes - fixed)
    junk -= junk % 2
    body = b"".join(
        [
            b"WAVE",
            b"fmt " + struct.pack("<I", len(fmt)) + fmt,
            b"JUNK" + struct.pack("<I", junk) + bytes(junk),
            b"data" + struct.pack("<I", len(pcm)) + pcm,
        ]
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body
