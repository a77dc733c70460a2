"""One invocation of the worker function: the jobs MNS delivered, the sweep, the drain.

The delivered jobs run directly (EventBridge took them off the queue); on the timer the
one sweep runs (``application.queue_consumer.sweep_once``); then the one queue-draining
loop (``application.queue_consumer.drain``) takes what waits in the queue while time is
left, stopping when the queue is empty (the drain itself does not sweep: the timer's one
sweep is this function's). A job is started only while at least ``reserve_seconds``
remain, so nothing is left running when the invocation returns. A delivered job that must
wait (another worker's live lease, a provider outage) is put back on the queue with the
wait as its delay, and is settled as far as this delivery goes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from application.bus import MessageBus
from application.commands import ProcessJob
from application.errors import QueueError
from application.handlers.process_job import JobMissing
from application.queue_consumer import DrainRules, QueueConsumer, drain, sweep_once
from application.reports import RetryLater
from entrypoints.fc.worker_event import Deadline, Outcome, Trigger, WorkerEvent, WorkerSummary

log = logging.getLogger(__name__)


async def run_worker(
    event: WorkerEvent,
    bus: MessageBus,
    consumer: QueueConsumer,
    deadline: Deadline,
    *,
    concurrency: int,
    reserve_seconds: float,
    stale_after_seconds: float,
) -> WorkerSummary:
    """The delivered jobs first; on the timer, the sweep; then whatever waits in the queue."""
    delivered = await _process_delivered(
        bus,
        consumer,
        event.job_ids,
        deadline,
        concurrency=concurrency,
        reserve_seconds=reserve_seconds,
    )
    swept = await sweep_once(bus, stale_after_seconds) if event.trigger is Trigger.TIMER else None
    rules = DrainRules(
        asyncio.Event(), keep_going=lambda: deadline.remaining() > reserve_seconds, until_empty=True
    )
    drained = await drain(consumer, concurrency, rules)
    return WorkerSummary(event.trigger, delivered, drained, swept)


async def _process_delivered(
    bus: MessageBus,
    consumer: QueueConsumer,
    job_ids: Sequence[str],
    deadline: Deadline,
    *,
    concurrency: int,
    reserve_seconds: float,
) -> dict[str, Outcome]:
    slots = asyncio.Semaphore(max(1, concurrency))

    async def one(job_id: str) -> Outcome:
        async with slots:
            if deadline.remaining() <= reserve_seconds:
                return Outcome.NOT_STARTED
            try:
                await bus.handle(ProcessJob(job_id))
            except RetryLater as reason:
                if reason.delay_seconds is not None:
                    try:
                        await consumer.put_back(job_id, reason.delay_seconds)
                    except QueueError:
                        log.warning("job %s not put back; left for EventBridge", job_id)
                        return Outcome.RETRY
                    log.info("job %s put back for %.0fs: %s", job_id, reason.delay_seconds,
                             reason)  # fmt: skip
                    return Outcome.SETTLED  # the queue brings it again: EventBridge need not
                log.info("job %s left for EventBridge to deliver again: %s", job_id, reason)
                return Outcome.RETRY
            except JobMissing:
                log.warning("MNS trigger named unknown job %s; dropped", job_id)
                return Outcome.MISSING
            except Exception:
                log.exception("job %s failed unexpectedly; left for EventBridge", job_id)
                return Outcome.ERROR
            return Outcome.SETTLED

    outcomes = await asyncio.gather(*(one(job_id) for job_id in job_ids))
    return dict(zip(job_ids, outcomes, strict=True))
