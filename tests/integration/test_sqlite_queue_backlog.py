"""The SQLite queue's order by availability (a delayed note goes behind what was sent while
it waited), its position for delayed messages, and the backlog ``/healthz`` reports."""

from __future__ import annotations

import pytest

from application.ports import QueueBacklog
from infrastructure.sqlite import SqliteDatabase, SqliteJobQueue
from tests.integration.test_sqlite_queue import VISIBILITY, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(db: SqliteDatabase, clock: FakeClock) -> SqliteJobQueue:
    return SqliteJobQueue(db, VISIBILITY, clock=clock)


async def test_a_delayed_message_goes_behind_those_sent_while_it_waited(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    await queue.enqueue("burst", delay_seconds=60)
    clock.advance(10)
    await queue.enqueue("other-user")
    clock.advance(60)  # both receivable now, e.g. every worker was busy

    received = [await queue.receive(0), await queue.receive(0)]

    assert [m.job_id for m in received if m] == ["other-user", "burst"]


async def test_the_position_of_a_delayed_message_counts_those_that_will_come_first(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    await queue.enqueue("earlier")
    await queue.enqueue("burst", delay_seconds=60)
    assert await queue.position("burst") == 2
    clock.advance(1)
    await queue.enqueue("other-user")
    assert await queue.position("burst") == 3
    assert await queue.position("other-user") == 2, "the delayed one is not ahead of it"


async def test_the_backlog_counts_every_message_and_ages_only_the_receivable_ones(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    assert await queue.backlog() == QueueBacklog(0, 0.0)
    await queue.enqueue("waiting")
    await queue.enqueue("delayed", delay_seconds=600)
    clock.advance(100)
    assert await queue.backlog() == QueueBacklog(2, 100.0)

    taken = await queue.receive(0)
    assert taken is not None and taken.job_id == "waiting"
    assert await queue.backlog() == QueueBacklog(2, 0.0), "in progress is not waiting"

    clock.advance(VISIBILITY + 5)  # its worker died: receivable again since 5 s
    assert await queue.backlog() == QueueBacklog(2, 5.0)
