"""Taking jobs off the durable queue: the worker's loop, and the CLI's for long audio.

A message is acknowledged only once its job is settled (delivered, failed or no speech),
and kept hidden from other workers while its job runs, so a worker that dies leaves the
job to be delivered again and a slow one is never processed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from application.bus import MessageBus
from application.commands import ProcessJob
from application.errors import QueueError
from application.handlers.process_job import JobMissing
from application.ports import JobQueue, QueueMessage
from application.reports import JobReport, RetryLater

log = logging.getLogger(__name__)


class QueueConsumer:
    def __init__(self, queue: JobQueue, bus: MessageBus, visibility_seconds: float) -> None:
        self._queue = queue
        self._bus = bus
        self._visibility_seconds = visibility_seconds

    async def consume_one(self, wait_seconds: float) -> JobReport | None:
        """Handle the next message, if one arrives within ``wait_seconds``."""
        message = await self._queue.receive(wait_seconds)
        if message is None:
            return None
        lease = _Lease(self._queue, message, self._visibility_seconds)
        keeper = asyncio.create_task(lease.keep())
        try:
            report: JobReport | None = await self._bus.handle(
                ProcessJob(message.job_id, message.delivery_count)
            )
        except RetryLater as reason:
            log.info("job %s left for redelivery: %s", message.job_id, reason)
            return None
        except JobMissing:
            log.warning("queue named unknown job %s; dropping the message", message.job_id)
            report = None
        finally:
            lease.release()
            await keeper
        await self._queue.acknowledge(lease.message)
        return report


class _Lease:
    """Extends a message's visibility every third of the timeout while its job runs.

    Stopped by ``release`` rather than by cancellation, so an extension in flight always
    finishes and the receipt used to acknowledge is the newest one.
    """

    def __init__(self, queue: JobQueue, message: QueueMessage, visibility_seconds: float) -> None:
        self._queue = queue
        self.message = message
        self._visibility_seconds = visibility_seconds
        self._released = asyncio.Event()

    def release(self) -> None:
        self._released.set()

    async def keep(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), self._visibility_seconds / 3)
            if self._released.is_set():
                return
            try:
                self.message = await self._queue.extend(self.message, self._visibility_seconds)
            except QueueError:
                log.warning("lost the lease on job %s", self.message.job_id, exc_info=True)
                return
