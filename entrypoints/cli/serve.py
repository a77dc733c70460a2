"""``voicescribe serve``: the bot by long polling, with queue workers in the same process.

Needs only ``TELEGRAM_BOT_TOKEN`` on the embedded default. SIGINT/SIGTERM stop polling,
let in-flight jobs finish, and exit 0.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import Update

from application.queue_consumer import run_workers
from entrypoints.cli.signals import stop_on_signals
from entrypoints.composition.container import Container
from entrypoints.composition.warm_start import warm_recognizer
from entrypoints.telegram.bot import build_bot, publish_commands

log = logging.getLogger(__name__)


async def serve(container: Container, stop: asyncio.Event | None = None) -> int:
    stop = stop or stop_on_signals()
    ptb = build_bot(container, polling=True)
    use_cases = container.use_cases()
    concurrency = container.settings().worker_concurrency
    async with ptb:
        assert ptb.updater is not None
        await warm_recognizer(container)
        await publish_commands(ptb)
        await ptb.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await ptb.start()
        log.info("voicescribe is polling Telegram")
        workers = asyncio.create_task(run_workers(use_cases.consumer, concurrency, stop))
        await stop.wait()
        log.info("stopping: no new updates; finishing jobs in hand")
        await ptb.updater.stop()
        await ptb.stop()
        await workers
    return 0
