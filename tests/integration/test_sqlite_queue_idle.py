"""Idle receivers of the SQLite queue: one polls for the process, an enqueue here wakes
one at once, and a message from another process is still seen within the poll interval."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from application.ports import QueueMessage
from infrastructure.sqlite import SqliteJobQueue
from tests.bounded_waits import until
from tests.integration.counting_database import CountingDatabase

T = TypeVar("T")
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
    databases: tuple[CountingDatabase, CountingDatabase], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = databases
    claimed = _count_finished_transactions(db, monkeypatch)
    queue = SqliteJobQueue(db, VISIBILITY, poll_interval=60.0)  # no poll within the wait
    receivers = [asyncio.create_task(queue.receive(30)) for _ in range(4)]
    await until(lambda: claimed() >= 4, 30, "every receiver found nothing, and waits")
    enqueued = time.monotonic()
    await queue.enqueue("job-1")
    done, pending = await asyncio.wait(receivers, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    took = time.monotonic() - enqueued
    assert [task.result() for task in done] == [QueueMessage("job-1", _receipt(done), 1)]
    assert took < 15, f"{took} s: woken by the enqueue, not by the end of its wait"
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
            # A poll interval is 0.05 s; seen in ~0.1 s at most with both cores busy.
            assert seen - enqueued < 1.0, seen - enqueued
    finally:
        stop.set()
        await asyncio.gather(*workers)


def _count_finished_transactions(
    db: CountingDatabase, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], int]:
    """How many write transactions have ended (a receiver whose claim has ended waits)."""
    finished = 0
    transaction = db.transaction

    async def counted(fn: Callable[[sqlite3.Connection], T]) -> T:
        nonlocal finished
        try:
            return await transaction(fn)
        finally:
            finished += 1

    monkeypatch.setattr(db, "transaction", counted)
    return lambda: finished


def _receipt(done: set[asyncio.Task[QueueMessage | None]]) -> str:
    (task,) = done
    message = task.result()
    assert message is not None
    return message.receipt
