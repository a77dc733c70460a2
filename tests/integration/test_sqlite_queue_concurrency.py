"""The SQLite job queue under concurrent receivers (tasks, databases, processes) and
storage failures."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from application.errors import QueueError, StorageError
from infrastructure.sqlite import SqliteDatabase, SqliteJobQueue

OpenDb = Callable[..., SqliteDatabase]
VISIBILITY = 30.0


async def _drain(queue: SqliteJobQueue, seen: list[str], acknowledge: bool) -> None:
    while (message := await queue.receive(0)) is not None:
        seen.append(message.job_id)
        if acknowledge:
            await queue.acknowledge(message)
        await asyncio.sleep(0)


@pytest.mark.parametrize("acknowledge", [True, False])
async def test_concurrent_receivers_on_two_databases_never_share_a_message(
    open_db: OpenDb, acknowledge: bool
) -> None:
    queues = [SqliteJobQueue(open_db(), visibility_timeout_seconds=300) for _ in range(2)]
    job_ids = [f"job-{n:03}" for n in range(200)]
    for job_id in job_ids:
        await queues[0].enqueue(job_id)
    seen: list[list[str]] = [[] for _ in range(20)]

    await asyncio.gather(*(_drain(queues[n % 2], seen[n], acknowledge) for n in range(20)))

    everything = [job_id for task in seen for job_id in task]
    assert sorted(everything) == job_ids  # each exactly once
    assert sum(1 for task in seen if task) > 1  # the work really was shared
    assert await queues[1].depth() == (0 if acknowledge else 200)


_CHILD = """
import asyncio, sys
from infrastructure.sqlite import SqliteDatabase, SqliteJobQueue

async def main() -> None:
    db = SqliteDatabase(sys.argv[1])
    queue = SqliteJobQueue(db, 300)
    print("ready", await queue.depth(), flush=True)
    while (message := await queue.receive(0)) is not None:
        print(message.job_id, flush=True)
        await queue.acknowledge(message)
    await db.close()

asyncio.run(main())
"""


async def test_receivers_in_two_processes_never_share_a_message(
    open_db: OpenDb, db_path: Path
) -> None:
    queue = SqliteJobQueue(open_db(), 300)
    job_ids = [f"job-{n:03}" for n in range(300)]
    for job_id in job_ids:
        await queue.enqueue(job_id)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CHILD, str(db_path), stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    assert await child.stdout.readline() == b"ready 300\n"  # both start on a full queue
    mine: list[str] = []

    (child_output, _), _ = await asyncio.gather(
        child.communicate(), _drain(queue, mine, acknowledge=True)
    )

    assert child.returncode == 0
    theirs = child_output.decode().split()
    assert sorted(mine + theirs) == job_ids
    assert mine and theirs  # both processes really competed for the same rows
    assert await queue.depth() == 0


async def test_storage_failures_become_queue_errors(
    open_db: OpenDb, corrupted_db_path: Path
) -> None:
    queue = SqliteJobQueue(open_db(corrupted_db_path), VISIBILITY)
    with pytest.raises(QueueError) as raised:
        await queue.enqueue("a")
    assert raised.value.transient is False
    assert isinstance(raised.value.__cause__, StorageError)
    assert isinstance(raised.value.__cause__.__cause__, sqlite3.Error)


async def test_a_held_write_lock_is_a_transient_queue_error(open_db: OpenDb, db_path: Path) -> None:
    queue = SqliteJobQueue(open_db(busy_timeout_ms=50), VISIBILITY)
    await queue.enqueue("a")
    raw = sqlite3.connect(db_path, isolation_level=None)
    try:
        raw.execute("BEGIN IMMEDIATE")
        with pytest.raises(QueueError) as raised:
            await queue.receive(0)
        assert raised.value.transient is True
    finally:
        raw.close()
    message = await queue.receive(0)
    assert message is not None and message.delivery_count == 1
