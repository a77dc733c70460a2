"""Users' settings in SQLite: one row per user (encoded by ``infrastructure/records.py``,
as in Tablestore), last writer wins."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from domain.jobs import UserStyle
from infrastructure.records import settings_columns, settings_from_columns
from infrastructure.sqlite.database import SqliteDatabase


class SqlitePreferencesRepository:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get(self, user_id: int) -> UserStyle | None:
        def select(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row: sqlite3.Row | None = conn.execute(
                "SELECT style, updated_at FROM user_settings WHERE user_id = ?", (user_id,)
            ).fetchone()
            return None if row is None else dict(row)

        stored = await self._db.read(select)
        return None if stored is None else settings_from_columns(user_id, stored)

    async def save(self, user_id: int, style: UserStyle) -> None:
        row = {"user_id": user_id, **settings_columns(style, time.time())}

        def upsert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO user_settings (user_id, style, updated_at) "
                "VALUES (:user_id, :style, :updated_at) "
                "ON CONFLICT (user_id) DO UPDATE SET style = excluded.style, "
                "updated_at = excluded.updated_at",
                row,
            )

        await self._db.transaction(upsert)
