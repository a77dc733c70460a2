"""The bot under test: ``serve`` in this event loop, talking to the Bot API fake."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import attrs
import httpx
import pytest

from entrypoints.cli.serve import serve
from entrypoints.composition.container import Channel, Container, build_container
from entrypoints.composition.settings import load_settings
from infrastructure.whisper import WhisperRecognizer
from tests.bounded_waits import finish
from tests.fakes.telegram import TelegramFake, telegram_fake  # noqa: F401 (fixture)


@attrs.define
class RunningBot:
    fake: TelegramFake
    container: Container


@pytest.fixture(scope="session")
def warm_offline_model(shared_models_dir: Path) -> None:
    """Every bot starts by warming the offline model (seconds the first time in a
    process). Done once here, so that no test's deadlines pay for it."""
    asyncio.run(WhisperRecognizer(models_dir=shared_models_dir).warm_up())


@pytest.fixture
def bot_settings(
    tmp_path: Path,
    telegram_fake: TelegramFake,  # noqa: F811
    shared_models_dir: Path,
    warm_offline_model: None,
) -> dict[str, str]:
    return {
        "VOICESCRIBE_DATA_DIR": str(tmp_path / "var"),
        "WHISPER_MODELS_DIR": str(shared_models_dir),
        "TELEGRAM_BOT_TOKEN": telegram_fake.token,
        "TELEGRAM_API_BASE_URL": telegram_fake.api_base_url,
        "SYNC_THRESHOLD_SECONDS": "60",
        # Every note's status at once, as these tests were written for; the tests of the
        # held-back status (#19) set STATUS_DELAY_SECONDS themselves.
        "STATUS_DELAY_SECONDS": "0",
    }


@pytest.fixture
async def start_bot(
    bot_settings: dict[str, str],
    telegram_fake: TelegramFake,  # noqa: F811
) -> AsyncIterator[Callable[..., RunningBot]]:
    stop = asyncio.Event()
    tasks: list[asyncio.Task[int]] = []
    containers: list[Container] = []

    def start(prepare: Callable[[Container], None] | None = None, **env: str) -> RunningBot:
        container = build_container(load_settings({**bot_settings, **env}), Channel.TELEGRAM)
        if prepare is not None:
            prepare(container)
        containers.append(container)
        tasks.append(asyncio.create_task(serve(container, stop)))
        return RunningBot(telegram_fake, container)

    yield start
    stop.set()
    for task in tasks:
        assert await finish(task, 30, "serve after stop") == 0
    for container in containers:
        await finish(asyncio.ensure_future(container.closing().close_all()), 30, "close_all")


@attrs.define
class BotUnderTest:
    """The bot in one way of running, polling or webhook, for tests that must hold in
    both: ``deliver`` hands an update pushed to the fake to the bot (polling fetches it
    by itself; the webhook gets it posted, as Telegram would), ``settled`` waits until
    every update taken is handled."""

    mode: str
    fake: TelegramFake
    container: Container
    deliver: Callable[[dict[str, object]], Awaitable[None]]
    settled: Callable[[float], Awaitable[bool]]


WEBHOOK_TEST_SECRET = "fault-matrix-secret"


@pytest.fixture(params=["polling", "webhook"])
async def bot_in_each_mode(
    request: pytest.FixtureRequest,
    bot_settings: dict[str, str],
    start_bot: Callable[..., RunningBot],
    telegram_fake: TelegramFake,  # noqa: F811
) -> AsyncIterator[Callable[..., Awaitable[BotUnderTest]]]:
    """``await start(prepare, **env)``: the bot in polling, then in webhook mode
    (parametrized); ``env`` adds settings."""
    from starlette.applications import Starlette

    from entrypoints.http.app import SECRET_HEADER, WEBHOOK_PATH, create_webhook_app

    apps: list[tuple[Starlette, contextlib.AbstractAsyncContextManager[object]]] = []
    clients: list[httpx.AsyncClient] = []

    async def start(
        prepare: Callable[[Container], None] | None = None, **extra_env: str
    ) -> BotUnderTest:
        if request.param == "polling":
            running = start_bot(prepare, **extra_env)

            async def nothing_to_post(update: dict[str, object]) -> None:
                return None

            async def polled(limit: float) -> bool:
                await telegram_fake.wait_for_async(
                    lambda: not telegram_fake.pending_updates(), timeout=limit
                )
                return True

            container = running.container
            return BotUnderTest("polling", telegram_fake, container, nothing_to_post, polled)
        env = {**bot_settings, "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_TEST_SECRET, **extra_env}
        container = build_container(load_settings(env), Channel.TELEGRAM)
        if prepare is not None:
            prepare(container)
        app = create_webhook_app(container, WEBHOOK_TEST_SECRET)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        apps.append((app, lifespan))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://webhook", timeout=30
        )
        clients.append(client)

        async def post(update: dict[str, object]) -> None:
            response = await client.post(
                WEBHOOK_PATH,
                content=json.dumps(update).encode(),
                headers={"content-type": "application/json", SECRET_HEADER: WEBHOOK_TEST_SECRET},
            )
            assert response.status_code == 200, response.text

        async def drained(limit: float) -> bool:
            return bool(await app.state.inbox.drain(limit))

        return BotUnderTest("webhook", telegram_fake, container, post, drained)

    yield start
    for client in clients:
        await client.aclose()
    for _, lifespan in apps:
        await finish(asyncio.ensure_future(lifespan.__aexit__(None, None, None)), 30, "lifespan")
