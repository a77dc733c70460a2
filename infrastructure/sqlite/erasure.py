"""Erasing users' transcripts and settings in SQLite: the ``UserDataEraser`` port.

Why this exists: ``/forget`` and the retention sweep delete rows for good. A job's row
holds its text, segments and the ``file_unique_id`` the transcript cache looks up, so
deleting the row is all it takes for the cache to miss; the results of actions on an
erased transcript (summary, action items, translations) are deleted with it. Only rows
still finished are
deleted (the status is checked in the same statement). ``secure_delete`` is turned on for
the connection, so the freed pages are overwritten with zeros instead of keeping the
erased text readable in the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from domain.jobs import JobStatus, VoiceJob
from infrastructure.records import JOB_COLUMNS, job_from_columns
from infrastructure.sqlite.database import SqliteDatabase

_FINISHED = tuple(status.value for status in JobStatus if status.is_finished)
_IN_FINISHED = f"status IN ({', '.join('?' * len(_FINISHED))})"
_BATCH = 500  # ids per DELETE: well under SQLite's limit on bound parameters


class SqliteUserDataEraser:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def erase_jobs(self, jobs: Sequence[VoiceJob]) -> int:
        ids = [job.job_id for job in jobs]

        def delete(conn: sqlite3.Connection) -> int:
            conn.execute("PRAGMA secure_delete = ON")
            deleted = 0
            for start in range(0, len(ids), _BATCH):
                batch = ids[start : start + _BATCH]
                marks = ", ".join("?" * len(batch))
                deleted += conn.execute(
                    f"DELETE FROM jobs WHERE job_id IN ({marks}) AND {_IN_FINISHED}",
                    (*batch, *_FINISHED),
                ).rowcount
                # The results of actions on these transcripts go with them (#17).
                conn.execute(
                    f"DELETE FROM action_results WHERE job_id IN ({marks}) "
                    f"AND job_id NOT IN (SELECT job_id FROM jobs WHERE job_id IN ({marks}))",
                    (*batch, *batch),
                )
            return deleted

        return await self._db.transaction(delete) if ids else 0

    async def finished_before(self, updated_before: float, limit: int) -> Sequence[VoiceJob]:
        """Served by the ``jobs_by_status (status, updated_at)`` index."""

        def select(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            return conn.execute(
                f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs WHERE {_IN_FINISHED} "
                "AND updated_at < ? ORDER BY updated_at, rowid LIMIT ?",
                (*_FINISHED, updated_before, max(limit, 0)),
            ).fetchall()

        return [job_from_columns(dict(row)) for row in await self._db.read(select)]

    async def erase_settings(self, user_id: int) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            conn.execute("PRAGMA secure_delete = ON")
            gone = conn.execute("DELETE FROM user_settings WHERE user_id = ?", (user_id,))
            return gone.rowcount == 1

        return await self._db.transaction(delete)
