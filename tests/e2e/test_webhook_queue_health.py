"""Nothing waits in the queue unnoticed: the webhook's ``/healthz`` reports the job
queue's backlog and turns 503 when a job waits past QUEUE_ALERT_SECONDS with no worker,
and the owner is told; ``voicescribe webhook`` runs a worker by default on SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from entrypoints.cli.main import parser
from entrypoints.cli.webhook import webhook_workers
from entrypoints.composition.container import Channel, Container, build_container
from entrypoints.composition.settings import load_settings
from entrypoints.http.app import create_webhook_app
from tests.bounded_waits import finish, until
from tests.fakes.telegram import TelegramFake

SECRET = "s3cret-token_for-tests"
OWNER = 4242


@pytest.fixture
async def served(
    tmp_path: Path, telegram_fake: TelegramFake, shared_models_dir: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    """The webhook with no queue worker, and an alert after 1 s of waiting."""
    settings = load_settings(
        {
            "VOICESCRIBE_DATA_DIR": str(tmp_path),
            "WHISPER_MODELS_DIR": str(shared_models_dir),
            "TELEGRAM_BOT_TOKEN": telegram_fake.token,
            "TELEGRAM_API_BASE_URL": telegram_fake.api_base_url,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "OWNER_ID": str(OWNER),
            "QUEUE_ALERT_SECONDS": "1",
        }
    )
    container = build_container(settings, Channel.TELEGRAM)
    app = create_webhook_app(container, SECRET, workers=0)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    await until(lambda: server.started, 30, "uvicorn start", unless_done=serving)
    port = server.servers[0].sockets[0].getsockname()[1]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield client, container
    server.should_exit = True
    await finish(serving, 30, "uvicorn after should_exit")


async def test_a_job_nobody_takes_turns_healthz_503_and_tells_the_owner(
    served: tuple[httpx.AsyncClient, Container], telegram_fake: TelegramFake
) -> None:
    client, container = served
    healthy = await client.get("/healthz")
    assert healthy.status_code == 200
    assert healthy.json()["queue"] == {"depth": 0, "oldest_waiting_seconds": 0.0}

    await container.queue().enqueue("tg:1:1")
    statuses: list[httpx.Response] = []

    async def stalled() -> bool:
        statuses.append(await client.get("/healthz"))
        return statuses[-1].status_code == 503

    deadline = asyncio.get_running_loop().time() + 60
    while not await stalled():
        assert asyncio.get_running_loop().time() < deadline, statuses[-1].json()
        await asyncio.sleep(0.2)  # polling the condition itself: the job's age passing 1 s

    body = statuses[-1].json()
    assert body["status"] == "queue stalled" and body["queue"]["depth"] == 1
    assert body["queue"]["oldest_waiting_seconds"] > 1
    await telegram_fake.wait_for_async(
        lambda: [m for m in telegram_fake.sent_messages(OWNER) if "worker" in m.plain_text],
        timeout=30,
    )


def test_webhook_runs_one_queue_worker_by_default_on_sqlite_and_none_on_mns() -> None:
    assert parser().parse_args(["webhook"]).workers is None
    assert webhook_workers(None, "sqlite") == 1
    assert webhook_workers(None, "mns") == 0
    assert webhook_workers(0, "sqlite") == 0, "a separate worker: asked for none"
    assert webhook_workers(3, "mns") == 3


def test_webhook_serves_with_httptools_and_uvloop_unless_told_otherwise() -> None:
    defaults = parser().parse_args(["webhook"])
    assert (defaults.http, defaults.loop) == ("httptools", "uvloop")
    chosen = parser().parse_args(["webhook", "--http", "h11", "--loop", "asyncio"])
    assert (chosen.http, chosen.loop) == ("h11", "asyncio")
