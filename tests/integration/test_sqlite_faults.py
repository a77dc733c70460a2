"""The SQLite adapter under a held write lock and a full disk: every write either lands or
fails as the port's transient error (never a raw ``sqlite3`` error, never a hang), and the
same write tried again once the fault is gone lands, once.

The lock is held by a second, raw ``sqlite3`` connection (``BEGIN IMMEDIATE``), as another
process would hold it. The full disk is a file-size limit (``RLIMIT_FSIZE``, with
``SIGXFSZ`` ignored so a write past it fails instead of killing the process) set on a
subprocess: robust in CI, no root and no tmpfs needed. SQLite answers it with a disk I/O
error, as it does for ``ENOSPC`` on a real disk (``SQLITE_FULL``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from application.errors import PortError, QueueError, StorageError
from application.ports import PaymentRecord
from domain.ledger import MinutesAccount
from infrastructure.sqlite import (
    SqliteAccountRepository,
    SqliteDatabase,
    SqliteJobQueue,
    SqliteJobRepository,
    SqlitePaymentRepository,
)
from tests.bounded_waits import finish
from tests.integration.test_sqlite_repositories import make_job

ROOT = Path(__file__).resolve().parents[2]
OpenDb = Callable[..., SqliteDatabase]

HOLD_SECONDS = 7.0  # the lock: longer than the default busy timeout (5 s)
HANG_SECONDS = 60.0  # a write still waiting this long is a hang


class LockHolder:
    """Another connection holding the write lock from a thread of its own until released
    (and at least ``minimum`` seconds), never longer than ``HANG_SECONDS``."""

    def __init__(self, path: Path, minimum: float = 0.0) -> None:
        self._path = path
        self._minimum = minimum
        self.held = threading.Event()
        self.release = threading.Event()
        self.released = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def start(self) -> None:
        self._thread.start()
        assert self.held.wait(HANG_SECONDS), "the second connection never took the lock"

    def stop(self) -> None:
        self.release.set()
        self._thread.join(HANG_SECONDS)

    def _hold(self) -> None:
        raw = sqlite3.connect(self._path, isolation_level=None, timeout=HANG_SECONDS)
        try:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("CREATE TABLE IF NOT EXISTS lock_holder (x)")  # a real pending write
            started = time.monotonic()
            self.held.set()
            self.release.wait(HANG_SECONDS)
            rest = self._minimum - (time.monotonic() - started)
            if rest > 0:
                time.sleep(rest)  # the fault itself lasts this long, whatever the writers do
            raw.execute("COMMIT")
        finally:
            raw.close()
            self.released.set()


@contextmanager
def write_lock_held(path: Path, minimum: float = 0.0) -> Iterator[LockHolder]:
    holder = LockHolder(path, minimum)
    holder.start()
    try:
        yield holder
    finally:
        holder.stop()


Write = Callable[[], Awaitable[object]]


async def until_landed(
    write: Write, failures: list[PortError], failed: asyncio.Event, attempts: int = 10
) -> object:
    """Try ``write`` as a caller that leaves work for a retry would (the inbox replaying an
    update): a transient port error is recorded and tried again; anything else is raised."""
    for _ in range(attempts):
        try:
            return await write()
        except (StorageError, QueueError) as error:
            assert not isinstance(error, sqlite3.Error)
            assert error.transient, f"a lock is worth retrying: {error!r}"
            failures.append(error)
            failed.set()
    raise AssertionError(f"still failing after {attempts} tries: {failures[-1]!r}")


async def test_a_burst_of_writes_under_a_lock_held_seven_seconds_all_land_on_retry(
    open_db: OpenDb, db_path: Path
) -> None:
    db = open_db()  # the default busy timeout (5 s): shorter than the 7 s hold
    jobs, accounts = SqliteJobRepository(db), SqliteAccountRepository(db)
    payments, queue = SqlitePaymentRepository(db), SqliteJobQueue(db, 60.0)
    await accounts.get(1)  # the schema is in place before the lock is taken
    writes: dict[str, Write] = {
        "job": lambda: jobs.add(make_job("job-1")),
        "account": lambda: accounts.save(MinutesAccount(user_id=1, balance=15)),
        "payment": lambda: payments.add(PaymentRecord("charge-1", 1, "p10", 10, 5, 100.0)),
        "queue": lambda: queue.enqueue("job-1"),
    }
    failures: dict[str, list[PortError]] = {name: [] for name in writes}
    failed = asyncio.Event()
    with write_lock_held(db_path, minimum=HOLD_SECONDS) as holder:

        async def first_failure_ends_the_hold() -> None:
            await failed.wait()
            holder.release.set()

        async def burst() -> list[object]:
            return await asyncio.gather(
                *(until_landed(write, failures[name], failed) for name, write in writes.items())
            )

        releaser = asyncio.create_task(first_failure_ends_the_hold())
        results = await finish(asyncio.create_task(burst()), 4 * HANG_SECONDS, "the burst")
        await finish(releaser, HANG_SECONDS, "the release")
    assert holder.released.is_set()

    assert results[0] is True, "the job was added once, by its first successful try"
    assert results[2] is True, "the payment was recorded once"
    assert sum(len(f) for f in failures.values()) >= 1, "the lock outlasted the busy timeout"
    assert all("locked" in str(e) or "waited" in str(e) for f in failures.values() for e in f)
    assert await jobs.get("job-1") is not None
    account = await accounts.get(1)
    assert account is not None and account.balance == 15
    assert await payments.get("charge-1") is not None
    message = await queue.receive(wait_seconds=0)
    assert message is not None and message.job_id == "job-1"
    assert await queue.receive(wait_seconds=0) is None, "enqueued once"


async def test_work_queued_behind_a_lock_past_the_deadline_is_refused_without_waiting(
    open_db: OpenDb, db_path: Path
) -> None:
    # A deadline (30 s in production) shorter than the busy timeout the first write waits.
    db = open_db(busy_timeout_ms=3000, queue_deadline_seconds=1)
    accounts = SqliteAccountRepository(db)
    await accounts.get(1)
    with write_lock_held(db_path):
        outcomes = await asyncio.gather(
            *(accounts.save(MinutesAccount(user_id=user)) for user in (1, 2, 3)),
            return_exceptions=True,
        )
    assert all(isinstance(o, StorageError) and o.transient for o in outcomes), outcomes
    first, *queued = (str(o) for o in outcomes)
    assert "locked" in first, "the first write waited the busy timeout out on the lock"
    assert all("waited" in text and "database thread" in text for text in queued), queued

    await accounts.save(MinutesAccount(user_id=2))  # the lock is gone: writes land again
    assert await accounts.get(2) is not None


FULL_DISK_SCRIPT = r"""
import asyncio, json, os, resource, signal, sqlite3, sys

from application.errors import PortError
from application.ports import PaymentRecord
from domain.ledger import MinutesAccount
from infrastructure.sqlite import (
    SqliteAccountRepository, SqliteDatabase, SqliteJobQueue, SqliteJobRepository,
    SqlitePaymentRepository, SqliteProcessedUpdates,
)
from tests.integration.test_sqlite_repositories import make_job

path = sys.argv[1]


def largest_file() -> int:
    folder = os.path.dirname(path)
    return max(os.path.getsize(os.path.join(folder, name)) for name in os.listdir(folder))


async def main() -> dict:
    db = SqliteDatabase(path, checkpoint_delay_seconds=3600)
    jobs, accounts = SqliteJobRepository(db), SqliteAccountRepository(db)
    payments, queue = SqlitePaymentRepository(db), SqliteJobQueue(db, 60.0)
    inbox = SqliteProcessedUpdates(db)
    await accounts.save(MinutesAccount(user_id=1, balance=15))
    kinds = {
        "job": lambda i: jobs.add(make_job(f"job-{i}")),
        "account": lambda i: accounts.save(MinutesAccount(user_id=100 + i, balance=i)),
        "payment": lambda i: payments.add(PaymentRecord(f"ch-{i}", 1, "p10", 10, 5, 1.0)),
        "queue": lambda i: queue.enqueue(f"job-{i}"),
        "inbox": lambda i: inbox.claim(f"update-{i}", "x" * 2000),
    }
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (largest_file() + 16384, hard))
    failed, landed = {}, {name: [] for name in kinds}
    for i in range(2000):
        if len(failed) == len(kinds):
            break
        for name, write in kinds.items():
            if name in failed:
                continue
            try:
                await write(i)
                landed[name].append(i)
            except Exception as error:
                failed[name] = {
                    "i": i,
                    "type": type(error).__name__,
                    "port_error": isinstance(error, PortError),
                    "raw_sqlite": isinstance(error, sqlite3.Error),
                    "transient": getattr(error, "transient", None),
                    "message": str(error),
                }
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # space returns
    retried = {}
    for name, failure in failed.items():
        result = await kinds[name](failure["i"])
        retried[name] = result if isinstance(result, bool) else None
    job = await jobs.get(f"job-{failed['job']['i']}")
    account = await accounts.get(100 + failed["account"]["i"])
    payment = await payments.get(f"ch-{failed['payment']['i']}")
    first_account = await accounts.get(1)
    integrity = await db.read(lambda conn: conn.execute("PRAGMA integrity_check").fetchone()[0])
    await db.close()
    return {
        "failed": failed,
        "landed": {name: len(done) for name, done in landed.items()},
        "retried": retried,
        "job_stored": job is not None,
        "account_stored": account is not None,
        "payment_stored": payment is not None,
        "first_balance": first_account.balance if first_account else None,
        "integrity": integrity,
    }


print(json.dumps(asyncio.run(main())))
"""


def run_with_a_file_size_limit(db_path: Path) -> dict[str, object]:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK_SCRIPT, str(db_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_a_full_disk_fails_every_kind_of_write_transiently_and_the_retry_lands(
    db_path: Path,
) -> None:
    result = run_with_a_file_size_limit(db_path)

    failed = result["failed"]
    assert isinstance(failed, dict)
    assert set(failed) == {"job", "account", "payment", "queue", "inbox"}, result
    for name, failure in failed.items():
        expected = "QueueError" if name == "queue" else "StorageError"
        assert failure["type"] == expected, (name, failure)
        assert failure["port_error"] and not failure["raw_sqlite"], (name, failure)
        assert failure["transient"] is True, (name, failure)
        assert "disk" in failure["message"].lower(), (name, failure)
    # Once space returns, the write that failed lands (and was not half-written before).
    retried = result["retried"]
    assert isinstance(retried, dict)
    assert retried["job"] is True and retried["payment"] is True, retried
    assert retried["inbox"] is True, "the update was not taken by the failed claim"
    assert result["job_stored"] and result["account_stored"] and result["payment_stored"]
    assert result["first_balance"] == 15, "what was written before the disk filled is intact"
    assert result["integrity"] == "ok"
