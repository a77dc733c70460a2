"""``voicescribe worker``: takes jobs off the queue until SIGTERM/SIGINT, then finishes.

On a signal it stops taking messages, gives jobs in hand ``WORKER_GRACE_SECONDS`` to
finish, then cancels the rest (their messages come back to another worker: nothing is
acknowledged before it is settled) and exits 0. A sweeper puts jobs whose claim ran out
back on the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from application.bootstrap import Application
from application.commands import SweepStuckJobs
from entrypoints.container import Container
from entrypoints.serve_command import stop_on_signals
from entrypoints.warm_start import warm_recognizer
from entrypoints.worker_loop import run_workers

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 60.0


async def run_worker(
    container: Container, concurrency: int, stop: asyncio.Event | None = None
) -> int:
    stop = stop or stop_on_signals()
    container.config.channel.from_value("telegram")
    bot = container.telegram_bot()
    await bot.initialize()
    await warm_recognizer(container)
    app = container.application()
    grace = float(container.config.worker_grace_seconds())
    stale_after = float(container.config.job_lease_seconds()) + float(
        container.config.queue_visibility_seconds()
    )
    log.info("worker: %d job(s) at a time", concurrency)
    workers = asyncio.create_task(run_workers(app.consumer, concurrency, stop))
    sweeper = asyncio.create_task(_sweep(app, stop, stale_after))
    await stop.wait()
    log.info("worker: stopping; %.0fs for the jobs in hand", grace)
    try:
        await asyncio.wait_for(asyncio.shield(workers), grace)
    except TimeoutError:
        log.warning("worker: grace period over; unfinished jobs go back to the queue")
        workers.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await workers
    sweeper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sweeper
    return 0


async def _sweep(app: Application, stop: asyncio.Event, stale_after: float) -> None:
    while not stop.is_set():
        try:
            await app.bus.handle(SweepStuckJobs(older_than_seconds=stale_after))
        except Exception:
            log.exception("sweeper failed; trying again later")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SWEEP_EVERY_SECONDS)
