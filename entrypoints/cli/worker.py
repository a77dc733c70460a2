"""``voicescribe worker``: takes jobs off the queue until SIGTERM/SIGINT, then finishes.

On a signal it stops taking messages, gives jobs in hand ``WORKER_GRACE_SECONDS`` to
finish, then cancels the rest (their messages come back to another worker: nothing is
acknowledged before it is settled) and exits 0. The sweep, run by ``run_workers`` beside
the consumers (as in every process that runs jobs), puts jobs whose claim ran out back on
the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from application.queue_consumer import run_workers
from entrypoints.cli.signals import stop_on_signals
from entrypoints.composition.container import Container
from entrypoints.composition.warm_start import warm_recognizer

log = logging.getLogger(__name__)


async def run_worker(
    container: Container, concurrency: int, stop: asyncio.Event | None = None
) -> int:
    stop = stop or stop_on_signals()
    settings = container.settings()
    bot = container.telegram_bot()
    await bot.initialize()
    await warm_recognizer(container)
    use_cases = container.use_cases()
    log.info("worker: %d job(s) at a time", concurrency)
    workers = asyncio.create_task(run_workers(use_cases.consumer, concurrency, stop))
    await stop.wait()
    grace = settings.worker_grace_seconds
    log.info("worker: stopping; %.0fs for the jobs in hand", grace)
    try:
        await asyncio.wait_for(asyncio.shield(workers), grace)
    except TimeoutError:
        log.warning("worker: grace period over; unfinished jobs go back to the queue")
        workers.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await workers
    return 0
