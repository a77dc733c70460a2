"""Workers that drain the job queue until told to stop, surviving outages.

A queue or storage outage is logged and waited out with backoff, never fatal: the
messages stay in the durable queue and are taken again when the service is back.
"""

from __future__ import annotations

import asyncio
import logging

from application.errors import PortError
from application.queue_consumer import QueueConsumer

log = logging.getLogger(__name__)

RECEIVE_WAIT_SECONDS = 1.0
MAX_PAUSE_SECONDS = 30.0


async def run_workers(consumer: QueueConsumer, count: int, stop: asyncio.Event) -> None:
    """``count`` workers, each finishing its job in hand after ``stop`` is set."""
    await asyncio.gather(*(_work(consumer, stop, index) for index in range(count)))


async def _work(consumer: QueueConsumer, stop: asyncio.Event, index: int) -> None:
    pause = 0.5
    while not stop.is_set():
        try:
            await consumer.consume_one(RECEIVE_WAIT_SECONDS)
            pause = 0.5
        except PortError as error:
            log.warning("worker %d: %s; pausing %.1fs", index, error, pause)
            await _sleep_unless_stopped(stop, pause)
            pause = min(pause * 2, MAX_PAUSE_SECONDS)
        except Exception:
            log.exception("worker %d: unexpected failure; pausing %.1fs", index, pause)
            await _sleep_unless_stopped(stop, pause)
            pause = min(pause * 2, MAX_PAUSE_SECONDS)


async def _sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return
