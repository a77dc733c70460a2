"""Idle receivers of the SQLite queue: one polls for the process, an enqueue here wakes
one at once, and a message from another process is still seen within the poll interval."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from application.ports import QueueMessage
from infrastructure.sqlite import SqliteJobQueue
from tests.integration.counting_database import CountingDatabase

VISIBILITY = 300.0


@pytest.fixture
async def databases(tmp_path: Path) -> AsyncIterator[tuple[CountingDatabase, CountingDatabase]]:
    """Two connections to one file, as the webhook's and the worker's processes have."""
    here, elsewhere = CountingDatabase(tmp_path / "q.db"), CountingDatabase(tmp_path / "q.db")
    yield here, elsewhere
    await here.close()
    await elsewhere.close()


async def test_idle_receivers_of_one_process_take_turns_polling(
    databases: tuple[CountingDatabase, CountingDatabase],
) -> None:
    db, _ = databases
    queue = SqliteJobQueue(db, VISIBILITY, poll_interval=0.05)
    await queue.depth()  # the file exists before counting starts
    db.transactions = 0
    results = await asyncio.gather(*(queue.receive(0.6) for _ in range(8)))
    assert results == [None] * 8
    # One poller every 50 ms (~12), a claim as each receiver starts and ends (~16) and a
    # few hand-overs. Each of the 8 polling on its own: ~100.
    assert db.transactions <= 40, db.transactions


async def test_an_enqueue_in_this_process_wakes_an_idle_receiver_at_once(
    databases: tuple[CountingDatabase, CountingDatabase],
) -> None:
    db, _ = databases
    queue = SqliteJobQueue(db, VISIBILITY, poll_interval=5.0)  # polling would take 5 s
    receivers = [asyncio.create_task(queue.receive(10)) for _ in range(4)]
    await asyncio.sleep(0.2)  # all of them waiting
    enqueued = time.monotonic()
    await queue.enqueue("job-1")
    done, pending = await asyncio.wait(receivers, timeout=2, return_when=asyncio.FIRST_COMPLETED)
    took = time.monotonic() - enqueued
    assert [task.result() for task in done] == [QueueMessage("job-1", _receipt(done), 1)]
    assert took < 1.0, took
    for task in pending:
        task.cancel()
    await asyncio.wait(pending)


async def test_a_message_from_another_process_is_seen_while_receivers_come_and_go(
    databases: tuple[CountingDatabase, CountingDatabase],
) -> None:
    """Workers call receive again and again with a short wait, so the poller keeps
    changing; someone must always be polling."""
    here, elsewhere = databases
    worker_queue = SqliteJobQueue(here, VISIBILITY, poll_interval=0.05)
    other_process = SqliteJobQueue(elsewhere, VISIBILITY)
    received: asyncio.Queue[tuple[str, float]] = asyncio.Queue()
    stop = asyncio.Event()

    async def worker() -> None:
        while not stop.is_set():
            message = await worker_queue.receive(0.15)
            if message is not None:
                await received.put((message.job_id, time.monotonic()))

    workers = [asyncio.create_task(worker()) for _ in range(6)]
    try:
        for n in range(5):
            await asyncio.sleep(0.13 * (n + 1))  # land at different points of the turns
            enqueued = time.monotonic()
            await other_process.enqueue(f"job-{n}")
            job_id, seen = await asyncio.wait_for(received.get(), 5)
            assert job_id == f"job-{n}"
            assert seen - enqueued < 0.5, seen - enqueued  # a poll interval is 0.05 s
    finally:
        stop.set()
        await asyncio.gather(*workers)


def _receipt(done: set[asyncio.Task[QueueMessage | None]]) -> str:
    (task,) = done
    message = task.result()
    assert message is not None
    return message.receipt
