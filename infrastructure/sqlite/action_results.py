"""Results of actions on transcripts in SQLite: the ``ActionResultRepository`` port.

Why this exists: a summary, a list of action items or a translation is made once, charged
once and kept with its transcript (keyed by the job's id and the action's key), so a second
press answers from here. A row is written once and never changed: the first of two racing
presses stays.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from domain.transcript_actions import ActionResult
from infrastructure.sqlite.database import SqliteDatabase

_COLUMNS = "job_id, action_key, user_id, text, provider, prompt_version, created_at"


class SqliteActionResults:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get(self, job_id: str, key: str) -> ActionResult | None:
        def select(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row: sqlite3.Row | None = conn.execute(
                f"SELECT {_COLUMNS} FROM action_results WHERE job_id = ? AND action_key = ?",
                (job_id, key),
            ).fetchone()
            return None if row is None else dict(row)

        row = await self._db.read(select)
        if row is None:
            return None
        return ActionResult(
            job_id=row["job_id"],
            key=row["action_key"],
            user_id=int(row["user_id"]),
            text=row["text"],
            provider=row["provider"],
            prompt_version=int(row["prompt_version"]),
            created_at=float(row["created_at"]),
        )

    async def add(self, result: ActionResult) -> bool:
        values = (
            result.job_id,
            result.key,
            result.user_id,
            result.text,
            result.provider,
            result.prompt_version,
            result.created_at,
        )

        def insert(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                f"INSERT INTO action_results ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (job_id, action_key) DO NOTHING",
                values,
            )
            return cursor.rowcount == 1

        return await self._db.transaction(insert)
