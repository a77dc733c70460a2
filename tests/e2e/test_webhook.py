"""The webhook: secret, size and shape checks, fast acknowledgement, one processing each."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from entrypoints.composition.container import Channel, build_container
from entrypoints.composition.settings import load_settings
from entrypoints.http.app import SECRET_HEADER, WEBHOOK_PATH, create_webhook_app
from tests.bounded_waits import finish, until
from tests.e2e.test_cli import voicescribe
from tests.fakes.telegram import TelegramFake

SECRET = "s3cret-token_for-tests"
USER = 777


@attrs.define
class Webhook:
    url: str
    client: httpx.AsyncClient
    fake: TelegramFake
    app: Starlette

    async def post(self, body: bytes | dict[str, object], secret: str | None = SECRET) -> int:
        headers = {"content-type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = await self.client.post(self.url, content=content, headers=headers)
        return response.status_code


CONCURRENCY = 3


@pytest.fixture
async def webhook(
    tmp_path: Path, telegram_fake: TelegramFake, shared_models_dir: Path
) -> AsyncIterator[Webhook]:
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
    app = create_webhook_app(container, SECRET, max_body_bytes=50_000, concurrency=CONCURRENCY)
    app.state.container = container
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    await until(lambda: server.started, 30, "uvicorn start", unless_done=serving)
    port = server.servers[0].sockets[0].getsockname()[1]
    async with httpx.AsyncClient(timeout=10) as client:
        yield Webhook(f"http://127.0.0.1:{port}{WEBHOOK_PATH}", client, telegram_fake, app)
    server.should_exit = True
    await finish(serving, 30, "uvicorn after should_exit")


def start_update(fake: TelegramFake, update_id: int) -> dict[str, object]:
    update = fake.push_text(USER, USER, "/start", update_id=update_id)
    return update


async def settled(webhook: Webhook) -> None:
    """Every update the inbox took is handled: whatever the bot was to say, it has said."""
    assert await webhook.app.state.inbox.drain(30), "the inbox did not drain within 30 s"
    assert webhook.app.state.inbox.held == 0


async def stored_updates(webhook: Webhook, *, finished: bool = False) -> int:
    """How many updates the inbox stored (only those marked finished, if asked)."""
    query = "SELECT count(*) FROM processed_updates"
    if finished:
        query += " WHERE finished = 1"
    sqlite = webhook.app.state.container.sqlite()
    return int(await sqlite.read(lambda conn: conn.execute(query).fetchone()[0]))


async def test_a_valid_update_is_acknowledged_and_processed_once(webhook: Webhook) -> None:
    update = start_update(webhook.fake, 1001)
    assert await webhook.post(update) == 200
    assert await webhook.post(update) == 200, "a redelivery is acknowledged too"
    await webhook.fake.wait_for_async(lambda: webhook.fake.sent_messages(USER))
    await settled(webhook)
    assert len(webhook.fake.sent_messages(USER)) == 1, "processed once"


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x"])
async def test_a_wrong_or_missing_secret_is_refused_and_nothing_happens(
    webhook: Webhook, secret: str | None
) -> None:
    update = start_update(webhook.fake, 2002)
    assert await webhook.post(update, secret=secret) == 403
    assert await webhook.post(update) == 200, "the update was not claimed by the refused call"
    await webhook.fake.wait_for_async(lambda: webhook.fake.sent_messages(USER))


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{" + b" " * 60_000 + b"}", 413),
        (b"not json at all", 400),
        (b"[1, 2, 3]", 400),
        (b'{"message": {}}', 400),
        (b'{"update_id": "7"}', 400),
        (b'{"update_id": true}', 400),
        (b"\xff\xfe\x00garbage", 400),
    ],
)
async def test_bad_bodies_get_4xx_and_store_nothing(
    webhook: Webhook, body: bytes, status: int
) -> None:
    assert await webhook.post(body) == status
    await settled(webhook)
    assert webhook.fake.sent_messages() == []
    assert await stored_updates(webhook) == 0


async def test_an_unknown_update_type_is_acknowledged_and_ignored(webhook: Webhook) -> None:
    assert await webhook.post({"update_id": 5005, "some_future_kind": {"x": 1}}) == 200
    await settled(webhook)
    assert webhook.fake.sent_messages() == []
    assert await stored_updates(webhook, finished=True) == 1, "handled: nothing to replay"


async def test_acknowledgements_never_wait_for_the_bots_answers(webhook: Webhook) -> None:
    fake = webhook.fake
    updates = [fake.push_text(10 + i, 10 + i, "/start", update_id=6000 + i) for i in range(9)]
    fake.set_latency("sendMessage", 3.0)  # the first answer travels long
    assert await webhook.post(updates[0]) == 200
    (first,) = await fake.wait_for_async(lambda: fake.calls_to("sendMessage"), timeout=30)
    fake.set_latency("sendMessage", 0.0)
    statuses = await asyncio.gather(*(webhook.post(update) for update in updates[1:]))
    assert statuses == [200] * 8
    assert first.finished is None, "every 200 went out while the first answer travelled"
    await fake.wait_for_async(lambda: len(fake.sent_messages()) == 9, timeout=30)


async def test_at_most_the_configured_number_of_updates_are_handled_at_once(
    webhook: Webhook,
) -> None:
    fake = webhook.fake
    fake.set_latency("sendMessage", 0.3)
    updates = [fake.push_text(50 + i, 50 + i, "/start", update_id=7000 + i) for i in range(12)]
    assert await asyncio.gather(*(webhook.post(u) for u in updates)) == [200] * 12
    await fake.wait_for_async(lambda: len(fake.sent_messages()) == 12, timeout=30)
    calls = fake.calls_to("sendMessage")
    overlap = max(
        sum(1 for other in calls if other.time <= call.time < (other.finished or 0))
        for call in calls
    )
    assert 2 <= overlap <= CONCURRENCY, f"{overlap} handled at once"


async def test_an_update_that_cannot_be_stored_is_refused_so_telegram_sends_it_again(
    webhook: Webhook,
) -> None:
    container = webhook.app.state.container
    await container.sqlite().close()  # the store is gone
    assert await webhook.post(start_update(webhook.fake, 8008)) == 503
    response = await webhook.client.get(webhook.url.replace(WEBHOOK_PATH, "/healthz"))
    assert response.json()["held"] == 0, "nothing is held that was not stored"
    await settled(webhook)
    assert webhook.fake.sent_messages(USER) == []


async def test_other_methods_and_paths_are_starlettes_to_answer(webhook: Webhook) -> None:
    assert (await webhook.client.get(webhook.url)).status_code == 405
    assert (await webhook.client.post(webhook.url + "x", content=b"{}")).status_code == 404


async def test_health(webhook: Webhook) -> None:
    response = await webhook.client.get(webhook.url.replace(WEBHOOK_PATH, "/healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "held": 0,
        "queue": {"depth": 0, "oldest_waiting_seconds": 0.0},
    }, "the backlogs are shown, and empty"


async def test_telegram_delivers_to_the_registered_webhook(
    webhook: Webhook, tmp_path: Path
) -> None:
    fake = webhook.fake
    result = await asyncio.to_thread(
        voicescribe,
        "set-webhook",
        webhook.url,
        data_dir=tmp_path,
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=fake.api_base_url,
        TELEGRAM_WEBHOOK_SECRET=SECRET,
    )
    assert result.returncode == 0, result.stderr
    assert fake.webhook is not None and fake.webhook.secret_token == SECRET
    start_update(fake, 3003)
    assert await asyncio.to_thread(fake.deliver_webhook) == [200]
    await fake.wait_for_async(lambda: fake.sent_messages(USER))


def test_the_webhook_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    result = voicescribe("webhook", data_dir=tmp_path, TELEGRAM_BOT_TOKEN="1:x")
    assert result.returncode == 2
    assert result.stderr.strip() == "voicescribe: webhook needs TELEGRAM_WEBHOOK_SECRET"


async def test_an_update_acknowledged_by_a_crashed_webhook_is_replayed_on_start(
    tmp_path: Path, telegram_fake: TelegramFake, shared_models_dir: Path
) -> None:
    env = {
        "VOICESCRIBE_DATA_DIR": str(tmp_path),
        "WHISPER_MODELS_DIR": str(shared_models_dir),
        "TELEGRAM_BOT_TOKEN": telegram_fake.token,
        "TELEGRAM_API_BASE_URL": telegram_fake.api_base_url,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
    }
    update = start_update(telegram_fake, 4004)
    # The crashed instance claimed it (200 sent to Telegram) and died before handling it.
    crashed = build_container(load_settings(env))
    assert await crashed.processed_updates().claim("update:4004", json.dumps(update))
    await crashed.sqlite().transaction(
        lambda conn: conn.execute("UPDATE processed_updates SET seen_at = seen_at - 3600")
    )
    await crashed.closing().close_all()

    app = create_webhook_app(build_container(load_settings(env), Channel.TELEGRAM), SECRET)
    async with app.router.lifespan_context(app):
        await telegram_fake.wait_for_async(lambda: telegram_fake.sent_messages(USER))
    restarted = build_container(load_settings(env))
    assert await restarted.processed_updates().unfinished(time.time() + 10, 10) == []
    await restarted.closing().close_all()
