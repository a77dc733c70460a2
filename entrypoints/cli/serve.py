"""``voicescribe serve``: the bot by long polling, with queue workers in the same process.

Needs only ``TELEGRAM_BOT_TOKEN`` on the embedded default. SIGINT/SIGTERM stop polling,
let in-flight jobs finish, and exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time

from telegram import Update
from telegram.ext import Application as PtbApplication
from telegram.ext import ApplicationBuilder

from domain.rate_limit import RateLimit
from entrypoints.container import Container
from entrypoints.telegram.admin import AdminHandlers
from entrypoints.telegram.handlers import BotHandlers
from entrypoints.telegram.payments import PaymentHandlers
from entrypoints.warm_start import warm_recognizer
from entrypoints.worker_loop import run_workers

log = logging.getLogger(__name__)


def build_bot(container: Container, *, polling: bool) -> PtbApplication:  # type: ignore[type-arg]
    """The PTB application with our handlers, sharing the container's Bot and use cases."""
    container.config.channel.from_value("telegram")
    builder = ApplicationBuilder().bot(container.telegram_bot()).concurrent_updates(64)
    if not polling:
        builder = builder.updater(None)
    ptb = builder.build()
    app = container.application()
    per_minute = int(container.config.rate_limit_per_minute())
    # Order matters: in one handler group the first match wins, and payments come first.
    PaymentHandlers(app).register(ptb)
    AdminHandlers(app, int(container.config.owner_id())).register(ptb)
    BotHandlers(app, RateLimit(per_minute, 60.0), time.time).register(ptb)
    return ptb


async def serve(container: Container, stop: asyncio.Event | None = None) -> int:
    stop = stop or stop_on_signals()
    ptb = build_bot(container, polling=True)
    app = container.application()
    async with ptb:
        assert ptb.updater is not None
        await warm_recognizer(container)
        await BotHandlers.publish_commands(ptb)
        await ptb.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await ptb.start()
        log.info("voicescribe is polling Telegram")
        workers = asyncio.create_task(
            run_workers(app.consumer, int(container.config.worker_concurrency()), stop)
        )
        await stop.wait()
        log.info("stopping: no new updates; finishing jobs in hand")
        await ptb.updater.stop()
        await ptb.stop()
        await workers
    return 0


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    return stop
