"""Taking jobs off the durable queue: the one loop every process that runs jobs uses.

A message is acknowledged only once its job is settled (delivered, failed or no speech),
and kept hidden from other workers while its job runs, so a worker that dies leaves the
job to be delivered again and a slow one is never processed twice.

``drain`` is the loop: ``voicescribe worker``, ``serve``, ``webhook --workers N`` run it
(through ``run_workers``, which also runs the sweep, so every process that runs jobs
recovers the jobs a dead one left) until they are stopped, waiting out queue or storage
outages; Function Compute's worker runs the same loop within an invocation's deadline,
stopping when the queue is empty, and sweeps on its timer. ``sweep_periodically`` /
``sweep_once`` are the one sweep that puts jobs whose claim ran out back on the queue.

A job that must wait (another worker's live lease, a provider outage) is put back as a
fresh message delayed by the wait, and the message in hand acknowledged: waiting is not
an attempt, so it never makes the job look like a poison message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import attrs

from application.bus import MessageBus
from application.commands import ProcessJob, SweepExpiredTranscripts, SweepStuckJobs
from application.errors import PortError, QueueError
from application.handlers.process_job import JobMissing
from application.handlers.sweeper import SweepOutcome
from application.ports import JobQueue, QueueMessage
from application.reports import JobReport, RetryLater

log = logging.getLogger(__name__)

RECEIVE_WAIT_SECONDS = 1.0
FIRST_PAUSE_SECONDS = 0.5
MAX_PAUSE_SECONDS = 30.0
SWEEP_EVERY_SECONDS = 30.0


class QueueConsumer:
    def __init__(
        self,
        queue: JobQueue,
        bus: MessageBus,
        visibility_seconds: float,
        stale_after_seconds: float | None = None,
    ) -> None:
        """``stale_after_seconds``: how long a job may sit untouched with no live claim
        before the sweep takes it back (default: two visibility timeouts)."""
        self._queue = queue
        self._bus = bus
        self._visibility_seconds = visibility_seconds
        self.stale_after_seconds = (
            2 * visibility_seconds if stale_after_seconds is None else stale_after_seconds
        )

    @property
    def bus(self) -> MessageBus:
        return self._bus

    async def consume_one(self, wait_seconds: float) -> JobReport | None:
        """Handle the next message, if one arrives within ``wait_seconds``."""
        message = await self._queue.receive(wait_seconds)
        if message is None:
            return None
        lease = _Lease(self._queue, message, self._visibility_seconds)
        keeper = asyncio.create_task(lease.keep())
        put_back: float | None = None
        try:
            report: JobReport | None = await self._bus.handle(
                ProcessJob(message.job_id, message.delivery_count)
            )
        except RetryLater as reason:
            if reason.delay_seconds is None:
                log.info("job %s left for redelivery: %s", message.job_id, reason)
                return None
            log.info("job %s put back for %.0fs: %s", message.job_id, reason.delay_seconds, reason)
            put_back, report = reason.delay_seconds, None
        except JobMissing:
            log.warning("queue named unknown job %s; dropping the message", message.job_id)
            report = None
        finally:
            lease.release()
            await keeper
        if put_back is not None:
            # The new message first: if acknowledging fails, the job has two messages (a
            # duplicate is harmless), never none.
            await self._queue.enqueue(message.job_id, put_back)
        await self._queue.acknowledge(lease.message)
        return report

    async def put_back(self, job_id: str, delay_seconds: float) -> None:
        """Queue the job again, to be taken no sooner than ``delay_seconds`` from now."""
        await self._queue.enqueue(job_id, delay_seconds)


@attrs.frozen
class DrainRules:
    """How a drain ends. A long-running process drains until ``stop`` is set, pausing
    through outages; a Function Compute invocation drains while ``keep_going()`` (time
    left), and ends at the first empty receive or outage: the next trigger comes soon."""

    stop: asyncio.Event
    keep_going: Callable[[], bool] = lambda: True
    until_empty: bool = False


async def drain(consumer: QueueConsumer, workers: int, rules: DrainRules) -> int:
    """``workers`` loops taking jobs off the queue under ``rules``; returns how many jobs
    were handled. Each loop finishes the job in hand after ``rules.stop`` is set."""
    handled = 0

    async def work(index: int) -> None:
        nonlocal handled
        pause = FIRST_PAUSE_SECONDS
        while not rules.stop.is_set() and rules.keep_going():
            try:
                report = await consumer.consume_one(RECEIVE_WAIT_SECONDS)
            except PortError as error:
                if rules.until_empty:
                    log.warning(
                        "worker %d: queue or storage unavailable (%s); stopping", index, error
                    )
                    return
                log.warning("worker %d: %s; pausing %.1fs", index, error, pause)
            except Exception:
                if rules.until_empty:
                    log.exception("worker %d: unexpected failure; the job stays queued", index)
                    return
                log.exception("worker %d: unexpected failure; pausing %.1fs", index, pause)
            else:
                pause = FIRST_PAUSE_SECONDS
                if report is not None:
                    handled += 1
                elif rules.until_empty:
                    return  # empty (or a job left for redelivery): done for now
                continue
            await wait_unless_stopped(rules.stop, pause)
            pause = min(pause * 2, MAX_PAUSE_SECONDS)

    await asyncio.gather(*(work(index) for index in range(max(1, workers))))
    return handled


async def run_workers(
    consumer: QueueConsumer,
    count: int,
    stop: asyncio.Event,
    sweep_every_seconds: float = SWEEP_EVERY_SECONDS,
) -> None:
    """``count`` workers draining the queue until ``stop``, and beside them the sweep (now
    and every ``sweep_every_seconds``); nothing when ``count`` is 0."""
    if count <= 0:
        return
    sweeping = asyncio.create_task(
        sweep_periodically(consumer.bus, stop, consumer.stale_after_seconds, sweep_every_seconds)
    )
    try:
        await drain(consumer, count, DrainRules(stop))
    except BaseException:
        sweeping.cancel()  # cancelled (or broken): no sweep outlives the workers
        raise
    finally:
        with contextlib.suppress(asyncio.CancelledError):
            await sweeping  # after a stop: the sweep in flight finishes, then it ends


async def sweep_once(bus: MessageBus, stale_after_seconds: float) -> SweepOutcome | None:
    """Jobs no worker holds and nothing touched for ``stale_after_seconds``: requeued or,
    out of attempts, failed with their minutes released; then the transcripts past their
    retention erased (``handlers/retention.py``, at most hourly). A failed sweep is
    logged: the next one tries again."""
    outcome: SweepOutcome | None = None
    try:
        outcome = await bus.handle(SweepStuckJobs(stale_after_seconds))
    except Exception:
        log.exception("sweeper failed; trying again later")
    try:
        await bus.handle(SweepExpiredTranscripts())
    except Exception:
        log.exception("retention sweep failed; trying again later")
    return outcome


async def sweep_periodically(
    bus: MessageBus,
    stop: asyncio.Event,
    stale_after_seconds: float,
    every_seconds: float = SWEEP_EVERY_SECONDS,
) -> None:
    """``sweep_once`` now and every ``every_seconds`` until ``stop``."""
    while not stop.is_set():
        await sweep_once(bus, stale_after_seconds)
        await wait_unless_stopped(stop, every_seconds)


async def wait_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


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
