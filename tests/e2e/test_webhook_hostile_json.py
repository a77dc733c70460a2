"""Hostile JSON at the webhook (#13): nesting too deep for the parser and integers too large
for any Telegram id are a 400 with nothing stored and no traceback logged, not a 500.

Through the real ASGI app with its default body limit (1 MB), so a 100,000-deep body
reaches the parser instead of being refused for its size.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from entrypoints.composition.container import Channel, build_container
from entrypoints.composition.settings import load_settings
from entrypoints.http.app import SECRET_HEADER, WEBHOOK_PATH, create_webhook_app
from tests.bounded_waits import finish
from tests.fakes.telegram import TelegramFake

SECRET = "hostile-json-secret"
DEEP = 100_000


@pytest.fixture
async def app(
    tmp_path: Path, telegram_fake: TelegramFake, shared_models_dir: Path
) -> AsyncIterator[Starlette]:
    settings = load_settings(
        {
            "VOICESCRIBE_DATA_DIR": str(tmp_path),
            "WHISPER_MODELS_DIR": str(shared_models_dir),
            "TELEGRAM_BOT_TOKEN": telegram_fake.token,
            "TELEGRAM_API_BASE_URL": telegram_fake.api_base_url,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
        }
    )
    container = build_container(settings, Channel.TELEGRAM)
    webhook = create_webhook_app(container, SECRET)
    webhook.state.container = container
    lifespan = webhook.router.lifespan_context(webhook)
    await lifespan.__aenter__()
    yield webhook
    await finish(asyncio.ensure_future(lifespan.__aexit__(None, None, None)), 30, "lifespan")


async def post(app: Starlette, body: bytes) -> int:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://webhook") as client:
        response = await client.post(
            WEBHOOK_PATH,
            content=body,
            headers={"content-type": "application/json", SECRET_HEADER: SECRET},
        )
    return response.status_code


async def stored_updates(app: Starlette) -> int:
    sqlite = app.state.container.sqlite()
    query = "SELECT count(*) FROM processed_updates"
    return int(await sqlite.read(lambda conn: conn.execute(query).fetchone()[0]))


def deeply_nested() -> bytes:
    return b'{"update_id": 5, "message": ' + b"[" * DEEP + b"]" * DEEP + b"}"


def huge_ids() -> bytes:
    return b'{"update_id": 6, "message": {"chat": {"id": ' + b"9" * 5000 + b"}}}"


def huge_update_id() -> bytes:
    return b'{"update_id": ' + b"1" * 5000 + b"}"


def beyond_64_bits() -> bytes:
    return json.dumps({"update_id": 7, "message": {"from": {"id": 2**64}}}).encode()


@pytest.mark.parametrize("body", [deeply_nested, huge_ids, huge_update_id, beyond_64_bits])
async def test_hostile_json_is_a_400_with_nothing_stored_and_no_traceback(
    app: Starlette, body: object, caplog: pytest.LogCaptureFixture
) -> None:
    assert callable(body)
    payload = body()
    assert len(payload) < 1_000_000, "within the body limit: the parser meets it"
    caplog.set_level(logging.INFO)

    assert await post(app, payload) == 400

    assert await stored_updates(app) == 0
    assert not [r for r in caplog.records if r.exc_info], "no traceback"


async def test_an_ordinary_update_is_still_taken(app: Starlette) -> None:
    assert await post(app, json.dumps({"update_id": 8, "poll": None}).encode()) == 200
    assert await stored_updates(app) == 1
