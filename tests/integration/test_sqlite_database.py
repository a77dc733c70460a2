"""The SQLite database itself: schema versioning, transactions, and failures that reach the
caller as ``StorageError``, never as sqlite3 exceptions."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from application.errors import StorageError
from domain.ledger import MinutesAccount
from infrastructure.sqlite import SqliteAccountRepository, SqliteDatabase
from infrastructure.sqlite.schema import SCHEMA_VERSION

OpenDb = Callable[..., SqliteDatabase]


def count_messages(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM queue_messages").fetchone()[0])


async def test_schema_is_versioned_and_reopening_keeps_the_data(
    open_db: OpenDb, db_path: Path
) -> None:
    await SqliteAccountRepository(open_db()).save(MinutesAccount(user_id=1, balance=3))
    reopened = await SqliteAccountRepository(open_db()).get(1)
    assert reopened is not None and reopened.balance == 3
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_a_file_from_a_newer_release_is_refused(open_db: OpenDb, db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match="newer"):
        await SqliteAccountRepository(open_db()).get(1)


async def test_a_corrupted_file_is_a_storage_error(
    open_db: OpenDb, corrupted_db_path: Path
) -> None:
    with pytest.raises(StorageError) as raised:
        await SqliteAccountRepository(open_db(corrupted_db_path)).get(1)
    assert not isinstance(raised.value, sqlite3.Error)
    assert isinstance(raised.value.__cause__, sqlite3.Error)
    assert raised.value.transient is False


async def test_an_unusable_path_is_a_storage_error(open_db: OpenDb, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("blocks the directory")
    with pytest.raises(StorageError) as raised:
        await SqliteAccountRepository(open_db(tmp_path / "a-file" / "db.sqlite")).get(1)
    assert raised.value.transient is False


async def test_a_held_write_lock_is_a_transient_storage_error(
    open_db: OpenDb, db_path: Path
) -> None:
    repo = SqliteAccountRepository(open_db(busy_timeout_ms=50))
    await repo.save(MinutesAccount(user_id=1, balance=3))
    raw = sqlite3.connect(db_path, isolation_level=None)
    try:
        raw.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageError) as raised:
            await repo.save(MinutesAccount(user_id=2))
        assert raised.value.transient is True
        assert not isinstance(raised.value, sqlite3.Error)
        assert await repo.get(1) is not None  # readers are not blocked (WAL)
    finally:
        raw.close()
    await repo.save(MinutesAccount(user_id=2))
    assert await repo.get(2) is not None


async def test_a_failing_transaction_is_rolled_back(db: SqliteDatabase) -> None:
    def insert_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO queue_messages (job_id, enqueued_at, visible_at) VALUES ('x', 0, 0)"
        )
        assert count_messages(conn) == 1
        raise RuntimeError("fn failed")

    with pytest.raises(RuntimeError, match="fn failed"):
        await db.transaction(insert_then_fail)
    assert await db.read(count_messages) == 0


async def test_a_closed_database_refuses_work(open_db: OpenDb) -> None:
    db = open_db()
    assert await db.read(count_messages) == 0
    await db.close()
    await db.close()  # closing twice is harmless
    with pytest.raises(StorageError, match="closed"):
        await db.read(count_messages)
