"""Telegram update ids already taken, so a redelivered update is acknowledged and ignored,
and the webhook's inbox: an update's body is kept until it is handled.

The primary key makes the claim atomic across processes; old keys are pruned, since
Telegram stops redelivering an update after a day.
"""

from __future__ import annotations

import sqlite3
import time

from infrastructure.sqlite.database import SqliteDatabase

KEEP_SECONDS = 2 * 24 * 3600


class SqliteProcessedUpdates:
    def __init__(self, db: SqliteDatabase, keep_seconds: float = KEEP_SECONDS) -> None:
        self._db = db
        self._keep_seconds = keep_seconds
        self._claims = 0

    async def claim(self, key: str, payload: str = "") -> bool:
        now = time.time()
        self._claims += 1
        prune = self._claims % 1000 == 1

        def insert(conn: sqlite3.Connection) -> bool:
            if prune:
                conn.execute(
                    "DELETE FROM processed_updates WHERE seen_at < ?", (now - self._keep_seconds,)
                )
            cursor = conn.execute(
                "INSERT INTO processed_updates (update_key, seen_at, payload, finished) "
                "VALUES (?, ?, ?, 0) ON CONFLICT (update_key) DO NOTHING",
                (key, now, payload),
            )
            return cursor.rowcount == 1

        return await self._db.transaction(insert)

    async def finish(self, key: str) -> None:
        def mark(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE processed_updates SET finished = 1, payload = '' WHERE update_key = ?",
                (key,),
            )

        await self._db.transaction(mark)

    async def unfinished(self, claimed_before: float, limit: int) -> list[tuple[str, str]]:
        def select(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            rows = conn.execute(
                "SELECT update_key, payload FROM processed_updates "
                "WHERE finished = 0 AND seen_at < ? ORDER BY seen_at LIMIT ?",
                (claimed_before, limit),
            ).fetchall()
            return [(str(row[0]), str(row[1])) for row in rows]

        return await self._db.read(select)
