"""One contract for every ``JobQueue`` adapter: in memory, SQLite, and MNS (via its fake).

Why: the use cases are tested against the in-memory queue and run against the others;
this keeps all three honest about the semantics the consumer relies on (visibility
timeout, redelivery with a higher count, receipts that change and go stale). Each adapter
runs on a clock the test moves, so nothing here sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import attrs
import pytest

from application.errors import QueueError
from application.ports import JobQueue, QueueMessage
from infrastructure.mns import MnsJobQueue
from infrastructure.retrying import RetryPolicy
from infrastructure.sqlite import SqliteDatabase, SqliteJobQueue
from tests.application.in_memory import FakeClock, InMemoryJobQueue
from tests.fakes.mns_server import MnsFake

VISIBILITY = 30


@attrs.frozen
class Subject:
    queue: JobQueue
    clock: FakeClock


@pytest.fixture(params=["in_memory", "sqlite", "mns"])
async def subject(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Subject]:
    clock = FakeClock()
    async with AsyncExitStack() as stack:
        queue: JobQueue
        if request.param == "in_memory":
            queue = InMemoryJobQueue(clock, visibility_seconds=VISIBILITY)
        elif request.param == "sqlite":
            db = SqliteDatabase(tmp_path / "queue.db")
            stack.push_async_callback(db.close)
            queue = SqliteJobQueue(db, VISIBILITY, clock=clock.now)
        else:
            fake = stack.enter_context(MnsFake(clock=clock.now))
            fake.add_queue("jobs", visibility_timeout=VISIBILITY)
            fast = RetryPolicy(attempts=2, base_delay_seconds=0.01, budget_seconds=2)
            mns = MnsJobQueue(fake.endpoint, fake.access_key_id, fake.access_key_secret,
                              "jobs", VISIBILITY, retry=fast)  # fmt: skip
            stack.push_async_callback(mns.close)
            queue = mns
        yield Subject(queue, clock)


async def received(queue: JobQueue) -> QueueMessage:
    message = await queue.receive(0)
    assert message is not None
    return message


async def test_every_enqueued_job_is_delivered_once(subject: Subject) -> None:
    for job_id in ["a", "b", "c"]:
        await subject.queue.enqueue(job_id)

    messages = [await received(subject.queue) for _ in range(3)]

    assert sorted(m.job_id for m in messages) == ["a", "b", "c"]
    assert messages[0].job_id == "a"  # FIFO-ish: the oldest comes first when all wait
    assert [m.delivery_count for m in messages] == [1, 1, 1]
    assert len({m.receipt for m in messages}) == 3
    assert await subject.queue.receive(0) is None


async def test_an_empty_queue_gives_none(subject: Subject) -> None:
    assert await subject.queue.receive(0) is None


async def test_a_received_message_is_hidden_until_the_visibility_timeout(
    subject: Subject,
) -> None:
    await subject.queue.enqueue("a")
    first = await received(subject.queue)
    subject.clock.advance(VISIBILITY - 1)
    assert await subject.queue.receive(0) is None

    subject.clock.advance(2)
    again = await received(subject.queue)

    assert (again.job_id, again.delivery_count) == ("a", 2)
    assert again.receipt != first.receipt
    with pytest.raises(QueueError):
        await subject.queue.acknowledge(first)
    await subject.queue.acknowledge(again)


async def test_extend_gives_a_new_receipt_and_the_old_one_cannot_acknowledge(
    subject: Subject,
) -> None:
    await subject.queue.enqueue("a")
    message = await received(subject.queue)

    extended = await subject.queue.extend(message, 3 * VISIBILITY)

    assert (extended.job_id, extended.delivery_count) == ("a", 1)
    assert extended.receipt != message.receipt
    subject.clock.advance(2 * VISIBILITY)
    assert await subject.queue.receive(0) is None
    with pytest.raises(QueueError):
        await subject.queue.acknowledge(message)
    await subject.queue.acknowledge(extended)


async def test_acknowledge_removes_the_message_for_good(subject: Subject) -> None:
    await subject.queue.enqueue("a")
    message = await received(subject.queue)

    await subject.queue.acknowledge(message)

    subject.clock.advance(10 * VISIBILITY)
    assert await subject.queue.receive(0) is None
    with pytest.raises(QueueError):
        await subject.queue.acknowledge(message)


async def test_a_delayed_message_is_hidden_until_its_delay_has_passed(subject: Subject) -> None:
    await subject.queue.enqueue("later", delay_seconds=2 * VISIBILITY)
    await subject.queue.enqueue("now")

    first = await received(subject.queue)
    assert first.job_id == "now", "the delayed message waits even though it came first"
    await subject.queue.acknowledge(first)
    subject.clock.advance(2 * VISIBILITY - 1)
    assert await subject.queue.receive(0) is None

    subject.clock.advance(2)
    later = await received(subject.queue)

    assert (later.job_id, later.delivery_count) == ("later", 1)
    await subject.queue.acknowledge(later)
