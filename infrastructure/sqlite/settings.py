"""Users' settings in SQLite: one JSON row per user, last writer wins."""

from __future__ import annotations

import json
import sqlite3
import time

import attrs

from domain.jobs import OutputMode, UserStyle
from infrastructure.sqlite.database import SqliteDatabase


class SqliteSettingsRepository:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get(self, user_id: int) -> UserStyle | None:
        def select(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT style FROM user_settings WHERE user_id = ?", (user_id,)
            ).fetchone()
            return None if row is None else str(row[0])

        stored = await self._db.read(select)
        return None if stored is None else style_from_json(stored)

    async def save(self, user_id: int, style: UserStyle) -> None:
        document = json.dumps(attrs.asdict(style), sort_keys=True)

        def upsert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO user_settings (user_id, style, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET style = excluded.style, "
                "updated_at = excluded.updated_at",
                (user_id, document, time.time()),
            )

        await self._db.transaction(upsert)


def style_from_json(document: str) -> UserStyle:
    """Settings saved by any release: unknown keys are dropped, missing ones defaulted."""
    fields = json.loads(document)
    known = {field.name for field in attrs.fields(UserStyle)}
    values = {key: value for key, value in fields.items() if key in known}
    if "output" in values:
        values["output"] = OutputMode(values["output"])
    return UserStyle(**values)
