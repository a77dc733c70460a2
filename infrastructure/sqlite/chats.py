"""Group chats' settings in SQLite: the ``ChatRepository`` port, with optimistic concurrency.

A chat is created by its first save (version 0) and every later save must name the version
it read, so an admin's change and a sponsor running out cannot overwrite each other: the
loser gets ``ConcurrentUpdate`` and re-reads. A migration (group to supergroup) moves the
row in one transaction; run again, it finds the old row gone and changes nothing.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from application.errors import ConcurrentUpdate, StorageError
from domain.chats import Chat, ChatMode
from infrastructure.sqlite.database import SqliteDatabase

_SELECT = "SELECT chat_id, mode, silent, include_files, sponsor_id, version FROM chats"
_INSERT = (
    "INSERT INTO chats (chat_id, mode, silent, include_files, sponsor_id, updated_at, version) "
    "VALUES (:chat_id, :mode, :silent, :include_files, :sponsor_id, :updated_at, 1) "
    "ON CONFLICT (chat_id) DO NOTHING"
)
_UPDATE = (
    "UPDATE chats SET mode = :mode, silent = :silent, include_files = :include_files, "
    "sponsor_id = :sponsor_id, updated_at = :updated_at, version = version + 1 "
    "WHERE chat_id = :chat_id AND version = :version"
)


class SqliteChatRepository:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get(self, chat_id: int) -> Chat | None:
        return await self._db.read(lambda conn: _select(conn, chat_id))

    async def save(self, chat: Chat) -> None:
        row = _to_row(chat)

        def write(conn: sqlite3.Connection) -> None:
            statement = _INSERT if chat.version == 0 else _UPDATE
            if conn.execute(statement, row).rowcount == 1:
                return
            if chat.version == 0 or _select(conn, chat.chat_id) is not None:
                raise ConcurrentUpdate(f"chat {chat.chat_id} changed since version {chat.version}")
            raise StorageError(f"chat {chat.chat_id} is not stored", transient=False)

        await self._db.transaction(write)
        chat.version += 1

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> Chat | None:
        def move(conn: sqlite3.Connection) -> Chat | None:
            old = _select(conn, old_chat_id)
            if old is None or old_chat_id == new_chat_id:
                return _select(conn, new_chat_id)
            if _select(conn, new_chat_id) is None:
                conn.execute(_INSERT, _to_row(old.migrated_to(new_chat_id)))
            conn.execute("DELETE FROM chats WHERE chat_id = ?", (old_chat_id,))
            return _select(conn, new_chat_id)

        return await self._db.transaction(move)


def _select(conn: sqlite3.Connection, chat_id: int) -> Chat | None:
    row: sqlite3.Row | None = conn.execute(f"{_SELECT} WHERE chat_id = ?", (chat_id,)).fetchone()
    return None if row is None else _from_row(row)


def _to_row(chat: Chat) -> dict[str, Any]:
    return {
        "chat_id": chat.chat_id,
        "mode": chat.mode.value,
        "silent": int(chat.silent),
        "include_files": int(chat.include_files),
        "sponsor_id": chat.sponsor_id,
        "updated_at": time.time(),
        "version": chat.version,
    }


def _from_row(row: sqlite3.Row) -> Chat:
    try:
        return Chat(
            chat_id=row["chat_id"],
            mode=ChatMode(row["mode"]),
            silent=bool(row["silent"]),
            include_files=bool(row["include_files"]),
            sponsor_id=row["sponsor_id"],
            version=row["version"],
        )
    except (TypeError, ValueError) as error:
        raise StorageError(
            f"chat row {row['chat_id']} cannot be read: {error!r}", transient=False
        ) from error
