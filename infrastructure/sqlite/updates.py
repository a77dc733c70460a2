"""Telegram update ids already taken, so a redelivered update is acknowledged and ignored.

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

    async def claim(self, key: str) -> bool:
        now = time.time()
        self._claims += 1
        prune = self._claims % 1000 == 1

        def insert(conn: sqlite3.Connection) -> bool:
            if prune:
                conn.execute(
                    "DELETE FROM processed_updates WHERE seen_at < ?", (now - self._keep_seconds,)
                )
            cursor = conn.execute(
                "INSERT INTO processed_updates (update_key, seen_at) VALUES (?, ?) "
                "ON CONFLICT (update_key) DO NOTHING",
                (key, now),
            )
            return cursor.rowcount == 1

        return await self._db.transaction(insert)
