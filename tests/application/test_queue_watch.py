"""The queue watch: the backlog for ``/healthz``, and the owner told when jobs wait."""

from __future__ import annotations

import asyncio

from application.errors import QueueError
from application.queue_watch import QueueWatch
from tests.application.in_memory import FakeClock, InMemoryJobQueue, RecordingAlerts
from tests.bounded_waits import finish, until

ALERT_AFTER = 900.0


def watched() -> tuple[QueueWatch, InMemoryJobQueue, RecordingAlerts, FakeClock]:
    clock = FakeClock()
    queue, alerts = InMemoryJobQueue(clock), RecordingAlerts()
    return QueueWatch(queue, alerts, clock, ALERT_AFTER), queue, alerts, clock


async def test_a_job_waiting_past_the_threshold_makes_the_queue_unhealthy_and_tells_the_owner() -> (
    None
):
    watch, queue, alerts, clock = watched()
    await queue.enqueue("long-note")
    clock.advance(ALERT_AFTER)
    at_threshold = await watch.check()
    assert at_threshold.healthy and alerts.sent == []

    clock.advance(1)
    health = await watch.check()

    assert not health.healthy and health.backlog is not None
    assert (health.backlog.depth, health.backlog.oldest_waiting_seconds) == (1, ALERT_AFTER + 1)
    assert len(alerts.sent) == 1 and "is a worker running" in alerts.sent[0]


async def test_the_owner_is_told_once_per_threshold_while_it_lasts() -> None:
    watch, queue, alerts, clock = watched()
    await queue.enqueue("long-note")
    clock.advance(ALERT_AFTER + 1)
    for _ in range(5):
        await watch.check()
        clock.advance(60)
    assert len(alerts.sent) == 1
    clock.advance(ALERT_AFTER)
    await watch.check()
    assert len(alerts.sent) == 2


async def test_a_job_taken_by_a_worker_is_not_waiting() -> None:
    watch, queue, alerts, clock = watched()
    await queue.enqueue("long-note")
    taken = await queue.receive(0)
    assert taken is not None
    for _ in range(20):  # a long job: its worker keeps extending the message's hiding
        clock.advance(ALERT_AFTER / 10)
        taken = await queue.extend(taken, 60)
    health = await watch.check()
    assert health.healthy and alerts.sent == []


async def test_an_unreadable_queue_is_unhealthy_and_reported() -> None:
    watch, queue, alerts, _ = watched()

    async def broken() -> None:
        raise QueueError("disk I/O error", transient=True)

    queue.backlog = broken  # type: ignore[assignment,method-assign]
    health = await watch.check()
    assert not health.healthy and health.problem == "disk I/O error"
    assert alerts.sent and "cannot be read" in alerts.sent[0]


async def test_the_watch_checks_until_stopped() -> None:
    watch, queue, alerts, clock = watched()
    await queue.enqueue("long-note")
    clock.advance(ALERT_AFTER + 1)
    stop = asyncio.Event()
    watching = asyncio.create_task(watch.watch(stop, every_seconds=0.01))
    await until(lambda: bool(alerts.sent), 60, "the watch's alert", unless_done=watching)
    stop.set()
    await finish(watching, 60)
    assert len(alerts.sent) == 1
