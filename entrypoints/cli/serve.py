"""``voicescribe serve``: the bot by long polling, with queue workers in the same process.

Needs only ``TELEGRAM_BOT_TOKEN`` on the embedded default. Updates go through the same
durable inbox as the webhook's (``telegram.polling``): each is stored before Telegram is
told it arrived, a failed handling is retried, and what a killed ``serve`` left is taken
over once its leases run out. SIGINT/SIGTERM stop polling, let held updates and in-flight
jobs finish (within ``WORKER_GRACE_SECONDS`` for the updates), and exit 0.
"""

from __future__ import annotations

import asyncio
import logging

from application.queue_consumer import run_workers
from entrypoints.cli.signals import stop_on_signals
from entrypoints.composition.container import Container
from entrypoints.composition.warm_start import warm_recognizer
from entrypoints.telegram.bot import build_bot, publish_commands
from entrypoints.telegram.polling import UpdatePolling, polling_inbox

log = logging.getLogger(__name__)


async def serve(container: Container, stop: asyncio.Event | None = None) -> int:
    stop = stop or stop_on_signals()
    ptb = build_bot(container, polling=False)
    use_cases = container.use_cases()
    settings = container.settings()
    async with ptb:
        await warm_recognizer(container)
        await publish_commands(ptb)
        await ptb.start()
        inbox = polling_inbox(ptb, container)
        await inbox.replay()  # what a dead instance left, once its leases ran out
        replaying = asyncio.create_task(inbox.replay_forever())
        workers = asyncio.create_task(
            run_workers(use_cases.consumer, settings.worker_concurrency, stop)
        )
        log.info("voicescribe is polling Telegram")
        await UpdatePolling(ptb.bot, inbox).run(stop)
        log.info("stopping: no new updates; finishing updates and jobs in hand")
        replaying.cancel()
        if not await inbox.drain(settings.worker_grace_seconds):
            log.warning("updates still unsettled at stop; the next start takes them over")
        await inbox.close()
        await asyncio.gather(replaying, return_exceptions=True)
        await ptb.stop()
        await workers
    return 0
