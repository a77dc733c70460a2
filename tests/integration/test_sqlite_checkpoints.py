"""The WAL is moved into the database file by a thread of its own, never by a commit."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from infrastructure.sqlite import SqliteDatabase
from infrastructure.sqlite.checkpoints import BackgroundCheckpoints

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


class StopLandsBeforeClear(threading.Event):
    """The wake-up event, with ``stop`` arriving at the worst moment: after the thread
    decided to checkpoint and just before it clears the wake-up (the lost wake-up that
    once hung ``close`` and, with it, a CI run)."""

    def __init__(self, checkpoints: BackgroundCheckpoints) -> None:
        super().__init__()
        self.checkpoints = checkpoints
        self.raced = False

    def clear(self) -> None:
        if not self.raced:
            self.raced = True
            stopper = threading.Thread(target=self.checkpoints.stop, name="stopper")
            self.checkpoints.stopper = stopper  # type: ignore[attr-defined]
            stopper.start()
            # stop() sets "stopping" and then this event: wait until it has done both.
            while not (self.checkpoints._stopping.is_set() and self.is_set()):
                time.sleep(0.001)
        super().clear()


def test_a_stop_that_lands_between_the_wake_up_and_its_clearing_still_ends_the_thread(
    tmp_path: Path,
) -> None:
    checkpoints = BackgroundCheckpoints(tmp_path / "c.sqlite3", 1000, delay_seconds=0.0)
    checkpoints._written = StopLandsBeforeClear(checkpoints)
    checkpoints.written()
    thread = checkpoints._thread
    assert thread is not None
    stopper = None
    for _ in range(3000):  # the thread reaches clear() within a moment; bounded anyway
        stopper = getattr(checkpoints, "stopper", None)
        if stopper is not None:
            break
        time.sleep(0.01)
    assert stopper is not None, "the checkpoint thread never ran"
    stopper.join(45)
    assert not stopper.is_alive(), "stop() never returned: the thread waits forever"
    thread.join(30)
    assert not thread.is_alive()
