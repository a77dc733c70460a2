"""The WAL is moved into the database file by a thread of its own, never by a commit."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from infrastructure.sqlite import SqliteDatabase

ROWS = 3000  # ~1,500 WAL pages: past SQLite's own 1,000-page checkpoint


async def write_rows(db: SqliteDatabase) -> None:
    await db.transaction(lambda c: c.execute("CREATE TABLE IF NOT EXISTS t (v TEXT)"))
    for start in range(0, ROWS, 100):
        await db.transaction(
            lambda c, s=start: c.executemany(
                "INSERT INTO t VALUES (?)", [("x" * 1500,) for _ in range(s, s + 100)]
            )
        )


async def test_commits_do_not_checkpoint_and_the_background_does(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "v.sqlite3", checkpoint_delay_seconds=0.5)
    try:
        assert await db.read(lambda c: c.execute("PRAGMA wal_autocheckpoint").fetchone()[0]) == 0
        await write_rows(db)
        main_file = (tmp_path / "v.sqlite3").stat().st_size
        assert main_file < ROWS * 1500 / 4, "the commits left the rows in the WAL"
        for _ in range(100):
            if db.checkpoints.completed and (tmp_path / "v.sqlite3").stat().st_size > ROWS * 1500:
                break
            await asyncio.sleep(0.05)
        assert (tmp_path / "v.sqlite3").stat().st_size > ROWS * 1500, "checkpointed behind"
        assert db.checkpoints.completed >= 1
    finally:
        await db.close()
    with sqlite3.connect(tmp_path / "v.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM t").fetchone()[0] == ROWS


async def test_closing_stops_the_checkpoint_thread(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "v.sqlite3")
    await write_rows(db)
    await db.close()
    assert not db.checkpoints.running
    assert (
        not (tmp_path / "v.sqlite3-wal").exists()
        or (tmp_path / "v.sqlite3-wal").stat().st_size == 0
    ), "the last connection to close checkpointed what was left"
