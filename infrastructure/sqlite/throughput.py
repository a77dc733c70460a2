"""The recognizers' learned throughput in SQLite (``application.throughput``): one row per
recognizer, last writer wins, so the ETA survives a restart."""

from __future__ import annotations

import sqlite3
import time

from infrastructure.sqlite.database import SqliteDatabase


class SqliteThroughput:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def rate(self, recognizer: str) -> float | None:
        def select(conn: sqlite3.Connection) -> float | None:
            row = conn.execute(
                "SELECT rate FROM recognizer_throughput WHERE recognizer = ?", (recognizer,)
            ).fetchone()
            return None if row is None else float(row[0])

        return await self._db.read(select)

    async def save_rate(self, recognizer: str, rate: float) -> None:
        def upsert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO recognizer_throughput (recognizer, rate, updated_at) "
                "VALUES (?, ?, ?) ON CONFLICT (recognizer) DO UPDATE SET "
                "rate = excluded.rate, updated_at = excluded.updated_at",
                (recognizer, rate, time.time()),
            )

        await self._db.transaction(upsert)
