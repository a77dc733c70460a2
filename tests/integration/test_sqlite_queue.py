"""The SQLite job queue against real files: FIFO, visibility timeout, receipts, concurrency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from application.errors import QueueError
from application.ports import QueueMessage
from infrastructure.sqlite import SqliteDatabase, SqliteJobQueue

OpenDb = Callable[..., SqliteDatabase]
VISIBILITY = 30.0


class FakeClock:
    """Seconds since the epoch that only move when a test says so."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(db: SqliteDatabase, clock: FakeClock) -> SqliteJobQueue:
    return SqliteJobQueue(db, VISIBILITY, clock=clock)


async def test_messages_come_out_in_order_once_each(queue: SqliteJobQueue) -> None:
    for job_id in ["a", "b", "c"]:
        await queue.enqueue(job_id)

    received = [await queue.receive(0) for _ in range(3)]

    assert [m.job_id for m in received if m] == ["a", "b", "c"]
    assert all(m is not None and m.delivery_count == 1 for m in received)
    assert len({m.receipt for m in received if m}) == 3
    assert await queue.receive(0) is None
    assert await queue.depth() == 3


async def test_a_hidden_message_returns_after_the_timeout_with_a_new_receipt(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    await queue.enqueue("a")
    first = await queue.receive(0)
    assert first is not None

    clock.advance(VISIBILITY - 0.5)
    assert await queue.receive(0) is None
    clock.advance(1.0)
    second = await queue.receive(0)

    assert second is not None and second.job_id == "a"
    assert second.delivery_count == 2 and second.receipt != first.receipt
    with pytest.raises(QueueError, match="receipt expired"):
        await queue.acknowledge(first)
    assert await queue.depth() == 1
    await queue.acknowledge(second)
    assert await queue.depth() == 0
    with pytest.raises(QueueError):  # a second acknowledgement finds nothing
        await queue.acknowledge(second)


async def test_extend_keeps_the_message_hidden_and_renews_the_receipt(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    await queue.enqueue("a")
    first = await queue.receive(0)
    assert first is not None
    clock.advance(VISIBILITY - 5)

    extended = await queue.extend(first, 60)

    assert extended == QueueMessage("a", extended.receipt, 1)
    assert extended.receipt != first.receipt
    clock.advance(59)  # long past the original timeout
    assert await queue.receive(0) is None
    with pytest.raises(QueueError):
        await queue.acknowledge(first)
    clock.advance(2)
    again = await queue.receive(0)
    assert again is not None and again.delivery_count == 2


async def test_a_stale_receipt_cannot_extend_the_next_claim(
    queue: SqliteJobQueue, clock: FakeClock
) -> None:
    await queue.enqueue("a")
    stale = await queue.receive(0)
    clock.advance(VISIBILITY + 1)
    current = await queue.receive(0)
    assert stale is not None and current is not None

    with pytest.raises(QueueError, match="receipt expired"):
        await queue.extend(stale, 600)

    clock.advance(VISIBILITY + 1)  # the current claim kept its own timeout
    third = await queue.receive(0)
    assert third is not None and third.delivery_count == 3
    with pytest.raises(QueueError):
        await queue.acknowledge(current)
    await queue.acknowledge(third)


async def test_depth_and_position(queue: SqliteJobQueue) -> None:
    for job_id in ["a", "b", "c"]:
        await queue.enqueue(job_id)
    assert [await queue.position(j) for j in ["a", "b", "c", "zzz"]] == [1, 2, 3, None]

    head = await queue.receive(0)
    assert head is not None and head.job_id == "a"
    assert await queue.depth() == 3 and await queue.position("c") == 3
    await queue.acknowledge(head)
    assert await queue.depth() == 2
    assert await queue.position("c") == 2 and await queue.position("a") is None


async def test_receive_waits_for_a_message_then_gives_up(db: SqliteDatabase) -> None:
    queue = SqliteJobQueue(db, VISIBILITY, poll_interval=0.01)
    started = time.monotonic()
    assert await queue.receive(0.2) is None
    assert 0.2 <= time.monotonic() - started < 10.0  # a generous bound: a loaded machine

    async def enqueue_later() -> None:
        await asyncio.sleep(0.1)
        await queue.enqueue("late")

    producer = asyncio.create_task(enqueue_later())
    message = await queue.receive(5.0)
    await producer
    assert message is not None and message.job_id == "late"
