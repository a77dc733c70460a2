"""Voice jobs in SQLite: the ``JobRepository`` port, with optimistic concurrency.

A job is written whole and ``version`` guards each save, so of two workers that read the same
job only the first save lands; the second gets ``ConcurrentUpdate`` and re-reads. A row's
columns are the job's encoding in ``infrastructure/records.py`` (shared with Tablestore),
plus ``file_unique_id`` copied out of the source for the transcript cache's index. Events
are not stored: the application dispatches them after the save.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from application.errors import ConcurrentUpdate, StorageError
from domain.jobs import JobStatus, UserStyle, VoiceJob
from infrastructure.records import JOB_COLUMNS, job_columns, job_from_columns
from infrastructure.sqlite.database import SqliteDatabase

_UNFINISHED = tuple(status.value for status in JobStatus if not status.is_finished)
_STORED = (*JOB_COLUMNS, "file_unique_id")  # the last one is derived, for the transcript cache
_SELECT = f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs"
_INSERT = (
    f"INSERT INTO jobs ({', '.join(_STORED)}) "
    f"VALUES ({', '.join(':' + column for column in _STORED)}) "
    "ON CONFLICT (job_id) DO NOTHING"
)
_UPDATE = (
    "UPDATE jobs SET "
    + ", ".join(f"{column} = :{column}" for column in _STORED if column != "version")
    + ", version = version + 1 WHERE job_id = :job_id AND version = :version"
)


class SqliteJobRepository:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def add(self, job: VoiceJob) -> bool:
        row = _to_row(job)

        def insert(conn: sqlite3.Connection) -> bool:
            return conn.execute(_INSERT, row).rowcount == 1

        return await self._db.transaction(insert)

    async def get(self, job_id: str) -> VoiceJob | None:
        def select(conn: sqlite3.Connection) -> sqlite3.Row | None:
            row: sqlite3.Row | None = conn.execute(
                f"{_SELECT} WHERE job_id = ?", (job_id,)
            ).fetchone()
            return row

        row = await self._db.read(select)
        return None if row is None else _from_row(row)

    async def save(self, job: VoiceJob) -> None:
        row = _to_row(job)

        def update(conn: sqlite3.Connection) -> None:
            if conn.execute(_UPDATE, row).rowcount == 1:
                return
            if conn.execute("SELECT 1 FROM jobs WHERE job_id = ?", (job.job_id,)).fetchone():
                raise ConcurrentUpdate(f"job {job.job_id} changed since version {job.version}")
            raise StorageError(f"job {job.job_id} is not stored; add it first", transient=False)

        await self._db.transaction(update)
        job.version += 1

    async def find_transcript(self, file_unique_id: str, style: UserStyle) -> VoiceJob | None:
        def select(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            return conn.execute(
                f"{_SELECT} WHERE file_unique_id = ? AND status = ? "
                "ORDER BY updated_at DESC LIMIT 50",
                (file_unique_id, JobStatus.DELIVERED.value),
            ).fetchall()

        for row in await self._db.read(select):
            job = _from_row(row)
            if job.style.same_result_as(style):
                return job
        return None

    async def list_by_user(self, user_id: int, limit: int) -> Sequence[VoiceJob]:
        def select(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            return conn.execute(
                f"{_SELECT} WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (user_id, limit),
            ).fetchall()

        return [_from_row(row) for row in await self._db.read(select)]

    async def list_unfinished(self, updated_before: float, limit: int) -> Sequence[VoiceJob]:
        """The unfinished statuses are named (not ``NOT IN`` the finished ones) so the
        ``jobs_by_status`` index serves the lookup; ties keep insertion order."""

        def select(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            return conn.execute(
                f"{_SELECT} WHERE status IN ({', '.join('?' * len(_UNFINISHED))}) "
                "AND updated_at < ? ORDER BY updated_at, rowid LIMIT ?",
                (*_UNFINISHED, updated_before, max(limit, 0)),
            ).fetchall()

        return [_from_row(row) for row in await self._db.read(select)]

    async def list_since(self, created_since: float, limit: int) -> Sequence[VoiceJob]:
        def select(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            return conn.execute(
                f"{_SELECT} WHERE created_at >= ? ORDER BY created_at DESC, rowid LIMIT ?",
                (created_since, max(limit, 0)),
            ).fetchall()

        return [_from_row(row) for row in await self._db.read(select)]


def _to_row(job: VoiceJob) -> dict[str, Any]:
    row = job_columns(job)
    row["file_unique_id"] = job.source.file_unique_id
    return row


def _from_row(row: sqlite3.Row) -> VoiceJob:
    return job_from_columns(dict(row))
