"""Group commit on a real SQLite file: writes that arrive together share transactions, and
every caller gets its own row's result or the batch's error."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from application.errors import StorageError
from infrastructure.sqlite import SqliteDatabase
from infrastructure.sqlite.group_commit import GroupCommit
from infrastructure.sqlite.updates import SqliteProcessedUpdates
from tests.integration.counting_database import CountingDatabase


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[CountingDatabase]:
    database = CountingDatabase(tmp_path / "inbox.sqlite3")
    yield database
    await database.close()


async def test_a_burst_of_claims_shares_few_commits_and_each_is_answered_for_itself(
    db: CountingDatabase,
) -> None:
    inbox = SqliteProcessedUpdates(db)
    await inbox.unfinished(0, 1)  # open and migrate the file first
    keys = [f"update:{i}" for i in range(300)] + [f"update:{i}" for i in range(0, 300, 10)]
    results = await asyncio.gather(*(inbox.claim(key, f'{{"k": "{key}"}}') for key in keys))
    assert results[:300] == [True] * 300
    assert results[300:] == [False] * 30, "a key seen in the same batch or before is taken"
    assert db.transactions < 30, f"{db.transactions} commits for 330 claims: not grouped"
    unfinished = await inbox.unfinished(1e12, 1000)
    assert sorted(key for key, _ in unfinished) == sorted(set(keys))


async def test_finishes_are_grouped_too_and_durable(db: CountingDatabase, tmp_path: Path) -> None:
    inbox = SqliteProcessedUpdates(db)
    await asyncio.gather(*(inbox.claim(f"update:{i}", "{}") for i in range(100)))
    before = db.transactions
    await asyncio.gather(*(inbox.finish(f"update:{i}") for i in range(0, 100, 2)))
    assert db.transactions - before < 10
    reopened = SqliteDatabase(tmp_path / "inbox.sqlite3")
    try:
        left = await SqliteProcessedUpdates(reopened).unfinished(1e12, 1000)
    finally:
        await reopened.close()
    assert sorted(int(key.split(":")[1]) for key, _ in left) == list(range(1, 100, 2))


async def test_a_failed_batch_fails_every_caller_in_it_and_the_next_batch_still_runs(
    db: CountingDatabase,
) -> None:
    def write(conn: sqlite3.Connection, items: list[str]) -> list[int]:
        if "poison" in items:
            conn.execute("SELECT * FROM no_such_table")
        return [len(item) for item in items]

    batches: GroupCommit[str, int] = GroupCommit(db, write)
    first = await batches.submit("warm")  # one batch on its own
    assert first == 4
    results = await asyncio.gather(
        batches.submit("a"), batches.submit("poison"), batches.submit("ccc"),
        return_exceptions=True,
    )  # fmt: skip
    assert all(isinstance(r, StorageError) for r in results), results
    assert await batches.submit("after") == 5


async def test_a_caller_that_gives_up_does_not_disturb_the_others(db: CountingDatabase) -> None:
    inbox = SqliteProcessedUpdates(db)
    impatient = asyncio.create_task(inbox.claim("update:1", "{}"))
    patient = asyncio.create_task(inbox.claim("update:2", "{}"))
    await asyncio.sleep(0)
    impatient.cancel()
    assert await patient is True
    assert not await inbox.claim("update:1"), "the row was written all the same"
