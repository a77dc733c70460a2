"""The bot under test: ``serve`` in this event loop, talking to the Bot API fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import attrs
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
