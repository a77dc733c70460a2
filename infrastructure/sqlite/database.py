"""The one door to the SQLite file: a connection owned by one thread, and transactions.

sqlite3 connections must stay on the thread that made them and every call blocks, so each
``SqliteDatabase`` owns one worker thread that opens the connection and runs all the work;
coroutines await that thread. Several processes may open the same file (the webhook and the
worker), so writers take the write lock up front (``BEGIN IMMEDIATE``) and correctness rests
on SQL transactions, never on in-process locks. Every ``sqlite3.Error`` (and a path that
cannot be created) leaves this module as a ``StorageError``: transient when trying again
later may succeed (another connection holds the lock past the busy timeout, the disk is
full, a disk I/O error), permanent otherwise (a corrupted or foreign file, a newer schema),
so callers leave the work for a retry instead of losing it. No statement waits on a lock longer
than the busy timeout. Commits never checkpoint the WAL; ``BackgroundCheckpoints`` does, on
a thread of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from os import PathLike
from pathlib import Path
from typing import TypeVar

from application.errors import StorageError
from infrastructure.sqlite.checkpoints import DELAY_SECONDS as CHECKPOINT_DELAY_SECONDS
from infrastructure.sqlite.checkpoints import BackgroundCheckpoints
from infrastructure.sqlite.schema import migrate

T = TypeVar("T")

# Another connection holds the lock longer than busy_timeout: worth trying again later.
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
# The disk is full (or a file-size limit was reached) or an I/O failed: space may come back.
_DISK_CODES = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR})
_DISK_WORDS = ("disk is full", "disk i/o error")
_WAL_RETRY_SECONDS = 0.01
# Work waiting this long for the database thread (behind writes that each wait out the busy
# timeout on a lock held elsewhere) is refused at once as transient instead of waiting on.
QUEUE_DEADLINE_SECONDS = 30.0


class SqliteDatabase:
    def __init__(
        self,
        path: str | PathLike[str],
        *,
        busy_timeout_ms: int = 5000,
        checkpoint_delay_seconds: float = CHECKPOINT_DELAY_SECONDS,
        queue_deadline_seconds: float = QUEUE_DEADLINE_SECONDS,
    ) -> None:
        """Nothing is opened here: the first call opens the file on the worker thread."""
        self._path = Path(path)
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._queue_deadline_seconds = queue_deadline_seconds
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._connection: sqlite3.Connection | None = None
        self._closed = False
        self.checkpoints = BackgroundCheckpoints(
            self._path, self._busy_timeout_ms, checkpoint_delay_seconds
        )

    @property
    def path(self) -> Path:
        return self._path

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` inside ``BEGIN IMMEDIATE ... COMMIT``, rolled back if it raises.

        The write lock is held from the start, so a read-then-write inside ``fn`` cannot
        interleave with another connection's, in this process or another.
        """
        return await self._submit(lambda conn: self._committed(conn, fn))

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` in a deferred transaction: one snapshot, no write lock taken."""
        return await self._submit(lambda conn: _in_transaction(conn, fn, "BEGIN"))

    async def close(self) -> None:
        """Finish queued work, close the connection and stop the thread; later calls fail."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._close_connection)
        finally:
            self._executor.shutdown(wait=True)
            await asyncio.to_thread(self.checkpoints.stop)

    async def _submit(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StorageError(f"database {self._path} is closed", transient=False)
        loop = asyncio.get_running_loop()
        submitted = time.monotonic()
        return await loop.run_in_executor(self._executor, self._run, work, submitted)

    def _run(self, work: Callable[[sqlite3.Connection], T], submitted: float) -> T:
        """On the worker thread: open if needed, run, translate driver errors."""
        waited = time.monotonic() - submitted
        if waited > self._queue_deadline_seconds:
            raise StorageError(
                f"sqlite {self._path}: waited {waited:.1f}s for the database thread",
                transient=True,
            )
        try:
            return work(self._open())
        except sqlite3.Error as exc:
            raise _storage_error(self._path, exc) from exc
        except OSError as exc:
            raise StorageError(f"cannot open {self._path}: {exc}", transient=False) from exc

    def _open(self) -> sqlite3.Connection:
        if self._connection is not None:
            return self._connection
        self._path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self._path, timeout=self._busy_timeout_ms / 1000, isolation_level=None
        )
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            _use_wal(conn, self._busy_timeout_ms / 1000)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA wal_autocheckpoint = 0")  # BackgroundCheckpoints does it
            _in_transaction(conn, migrate, "BEGIN IMMEDIATE")
        except BaseException:
            conn.close()
            raise
        self._connection = conn
        return conn

    def _committed(self, conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
        result = _in_transaction(conn, fn, "BEGIN IMMEDIATE")
        self.checkpoints.written()
        return result

    def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _in_transaction(
    conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T], begin: str
) -> T:
    conn.execute(begin)
    try:
        result = fn(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
    return result


def _use_wal(conn: sqlite3.Connection, timeout_seconds: float) -> None:
    """Switch the file to WAL, waiting while another connection holds it.

    SQLite answers "database is locked" at once, without its busy handler, when the mode
    change meets another connection opening or migrating the same fresh file (the webhook
    and the worker starting together), so the wait is done here, up to the busy timeout.
    """
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(_WAL_RETRY_SECONDS)


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    return (code is not None and code & 0xFF in _BUSY_CODES) or any(
        word in text for word in ("locked", "busy")
    )


def _is_disk_fault(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    return (code is not None and code & 0xFF in _DISK_CODES) or any(
        words in text for words in _DISK_WORDS
    )


def _storage_error(path: Path, exc: sqlite3.Error) -> StorageError:
    return StorageError(f"sqlite {path}: {exc}", transient=_is_busy(exc) or _is_disk_fault(exc))
