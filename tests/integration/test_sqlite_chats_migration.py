"""A file written before group chats (schema version 5) opens with the ``chats`` table and
keeps everything it held."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from domain.chats import Chat, ChatMode
from infrastructure.sqlite import SqliteChatRepository, SqliteDatabase, SqliteProcessedUpdates
from infrastructure.sqlite.schema import _MIGRATIONS, SCHEMA_VERSION

OpenDb = Callable[..., SqliteDatabase]
BEFORE_CHATS = 5


def write_version_5_file(path: Path) -> None:
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as raw:
        for step in _MIGRATIONS[:BEFORE_CHATS]:
            for statement in step:
                raw.execute(statement)
        raw.execute(f"PRAGMA user_version = {BEFORE_CHATS}")
        raw.execute(
            "INSERT INTO processed_updates (update_key, seen_at, payload, finished)"
            " VALUES ('update:1', 1.0, '{}', 0)"
        )
    raw.close()


async def test_a_version_5_file_gains_group_chats(open_db: OpenDb, db_path: Path) -> None:
    write_version_5_file(db_path)
    db = open_db()
    chats = SqliteChatRepository(db)

    assert await chats.get(-100) is None
    chat = Chat(-100, ChatMode.AUTO, sponsor_id=7)
    await chats.save(chat)
    assert await chats.get(-100) == chat
    assert await SqliteProcessedUpdates(db).unfinished(2.0, 5) == [("update:1", "{}")]
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()
