"""WAL checkpoints on a thread of their own, never on the thread that commits.

Why this exists: by default SQLite checkpoints inside a commit once the WAL passes 1,000
pages, and that commit then copies the WAL into the database file and syncs it. The
webhook commits for every few updates it acknowledges, so every ~2,500 updates one
commit took ~10 ms and every acknowledgement waiting on it stalled (benchmark 1: the
p99 was these stalls). Here the committing connection never checkpoints
(``wal_autocheckpoint = 0``); a second connection, on this thread, runs a PASSIVE
checkpoint (which never blocks writers or readers) at most ``delay_seconds`` after
writes, so the WAL stays about a second of writes long. A failed checkpoint loses
nothing (the WAL still holds every commit) and is tried again after the next write.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

DELAY_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 30.0


class BackgroundCheckpoints:
    def __init__(self, path: Path, busy_timeout_ms: int, delay_seconds: float = DELAY_SECONDS):
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._delay = delay_seconds
        self._written = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.completed = 0  # checkpoints run (for tests and diagnostics)

    def written(self) -> None:
        """A write transaction committed: checkpoint within ``delay_seconds``."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
            self._thread.start()
        self._written.set()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def stop(self, timeout_seconds: float = STOP_TIMEOUT_SECONDS) -> None:
        """End the thread (a last checkpoint is the closing connection's own). A checkpoint
        in flight is waited for, at most ``timeout_seconds``: the thread is a daemon."""
        self._stopping.set()
        self._written.set()
        if self._thread is not None:
            self._thread.join(timeout_seconds)
            if self._thread.is_alive():
                log.error("sqlite %s: checkpoint thread still busy; left behind", self._path)
            self._thread = None

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            # Checked on every turn: a stop that lands between the wait below and the
            # ``clear`` has its wake-up cleared, and only this check then sees it (without
            # it the thread waited forever and ``stop``, hence closing, never returned).
            while not self._stopping.is_set():
                self._written.wait()
                if self._stopping.wait(self._delay):
                    return
                self._written.clear()
                try:
                    connection = connection or self._connect()
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.completed += 1
                except sqlite3.Error as exc:
                    log.warning(
                        "sqlite %s: checkpoint failed, tried again later: %s", self._path, exc
                    )
        finally:
            if connection is not None:
                connection.close()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path, timeout=self._busy_timeout_ms / 1000, isolation_level=None
        )
        connection.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        return connection
