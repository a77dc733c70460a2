"""Builds the Mini App (``mini_app.py``) from the container: its use cases, the chat's
"Received" status for an uploaded recording, and the sweep of finished or abandoned
uploads that runs beside the webhook."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram import Bot

from application.errors import PortError
from application.handlers.uploads import Uploads
from application.history import TranscriptHistory
from application.progress import Progress, Stage
from entrypoints.composition.container import Container
from entrypoints.http.mini_app import MiniApp, MiniAppConfig
from infrastructure.telegram.progress_text import progress_text

log = logging.getLogger(__name__)

SWEEP_SECONDS = 600.0


def build_uploads(container: Container) -> Uploads:
    settings = container.settings()
    use_cases = container.use_cases()
    bot: Bot = container.telegram_bot()

    async def announce(chat_id: int, language: str | None) -> int | None:
        """The usual status message, edited as the job goes on; a failure to send it only
        means the answer arrives as a new message."""
        try:
            sent = await bot.send_message(
                chat_id, progress_text(Progress(Stage.RECEIVED), language)
            )
        except Exception as error:
            log.warning("no status message for an uploaded recording: %s", error)
            return None
        return sent.message_id

    return Uploads(
        storage=container.upload_storage(),
        bus=use_cases.bus,
        jobs=container.jobs(),
        style_of=use_cases.preferences.of,
        clock=container.clock(),
        max_bytes=settings.max_upload_bytes,
        retention_seconds=settings.upload_retention_hours * 3600,
        announce=announce,
    )


def build_mini_app(container: Container, uploads: Uploads) -> MiniApp:
    settings = container.settings()
    config = MiniAppConfig(settings.telegram_bot_token, settings.webapp_auth_max_age_seconds)
    jobs = container.jobs()
    return MiniApp(config, uploads, TranscriptHistory(jobs), jobs, container.clock().now)


async def sweep_uploads(uploads: Uploads, stop: asyncio.Event) -> None:
    """Every ``SWEEP_SECONDS`` until ``stop``: settled jobs' and abandoned uploads go."""
    while not stop.is_set():
        try:
            removed = await uploads.sweep()
            if removed:
                log.info("removed %d uploads (job settled or abandoned)", removed)
        except PortError as error:
            log.warning("upload sweep failed, tried again later: %s", error)
        # Waited for in this task (``asyncio.timeout``, not ``wait_for``, which runs the
        # wait as a task of its own): FC's handler waits for every task a request started.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SWEEP_SECONDS):
                await stop.wait()
