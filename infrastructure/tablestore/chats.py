"""Group chats' settings in Tablestore: the ``ChatRepository`` port, with optimistic
concurrency.

Why this exists: a group's settings are changed by several admins and by the sponsor's
minutes running out, so a write must not undo another it never saw. The first save of a
chat (version 0) is a PutRow with ``EXPECT_NOT_EXIST``; every later save is a PutRow (the
whole row: a sponsor that is gone loses its column) that runs only if the stored
``version`` equals the version that was read; a failed condition is ``ConcurrentUpdate``.

A migration (group to supergroup) cannot be one transaction here: the new row is put with
``EXPECT_NOT_EXIST`` (settings the supergroup already has win), then the old row is
deleted. Each step is safe to repeat, so a migration cut short, or announced twice, ends
the same when run again. The delete needs no condition: Telegram closes the old group when
it migrates, so nobody changes its settings any more.
"""

from __future__ import annotations

import contextlib
from typing import Any

from tablestore import (
    ComparatorType,
    Condition,
    Row,
    RowExistenceExpectation,
    SingleColumnCondition,
)

from application.errors import ConcurrentUpdate, StorageError
from domain.chats import Chat, ChatMode
from infrastructure.tablestore.connection import TablestoreConnection
from infrastructure.tablestore.errors import ConditionFailed


class TablestoreChatRepository:
    def __init__(self, connection: TablestoreConnection) -> None:
        self._db = connection
        self._table = connection.tables.chats

    async def get(self, chat_id: int) -> Chat | None:
        _, row, _ = await self._db.call(
            f"get chat {chat_id}",
            lambda client: client.get_row(self._table, _key(chat_id), max_version=1),
            idempotent=True,
        )
        return None if row is None else _chat(chat_id, row.attribute_columns)

    async def save(self, chat: Chat) -> None:
        chat_id, version = chat.chat_id, chat.version
        row = Row(_key(chat_id), _columns(chat, version + 1))
        if version == 0:
            condition = Condition(RowExistenceExpectation.EXPECT_NOT_EXIST)
        else:
            check = SingleColumnCondition(
                "version", version, ComparatorType.EQUAL, pass_if_missing=False
            )
            condition = Condition(RowExistenceExpectation.EXPECT_EXIST, check)
        try:
            await self._db.call(
                f"save chat {chat_id}",
                lambda client: client.put_row(self._table, row, condition),
                idempotent=False,
            )
        except ConditionFailed as failed:
            if version > 0 and await self.get(chat_id) is None:
                raise StorageError(f"chat {chat_id} is not stored", transient=False) from failed
            raise ConcurrentUpdate(f"chat {chat_id} changed since version {version}") from failed
        chat.version += 1

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> Chat | None:
        old = await self.get(old_chat_id)
        if old is None or old_chat_id == new_chat_id:
            return await self.get(new_chat_id)
        moved = Row(_key(new_chat_id), _columns(old.migrated_to(new_chat_id), 1))
        new = Condition(RowExistenceExpectation.EXPECT_NOT_EXIST)
        with contextlib.suppress(ConditionFailed):  # the supergroup's own settings stay
            await self._db.call(
                f"migrate chat {old_chat_id} to {new_chat_id}",
                lambda client: client.put_row(self._table, moved, new),
                idempotent=False,
            )
        gone = Row(_key(old_chat_id))
        await self._db.call(
            f"delete migrated chat {old_chat_id}",
            lambda client: client.delete_row(
                self._table, gone, Condition(RowExistenceExpectation.IGNORE)
            ),
            idempotent=True,
        )
        return await self.get(new_chat_id)


def _key(chat_id: int) -> list[tuple[str, Any]]:
    return [("chat_id", chat_id)]


def _columns(chat: Chat, version: int) -> list[tuple[str, Any]]:
    columns: list[tuple[str, Any]] = [
        ("mode", chat.mode.value),
        ("silent", chat.silent),
        ("include_files", chat.include_files),
        ("version", version),
    ]
    if chat.sponsor_id is not None:
        columns.append(("sponsor_id", chat.sponsor_id))
    return columns


def _chat(chat_id: int, attributes: list[Any]) -> Chat:
    cells = {cell[0]: cell[1] for cell in attributes}
    try:
        return Chat(
            chat_id=chat_id,
            mode=ChatMode(cells["mode"]),
            silent=bool(cells["silent"]),
            include_files=bool(cells["include_files"]),
            sponsor_id=cells.get("sponsor_id"),
            version=cells["version"],
        )
    except (KeyError, TypeError, ValueError) as error:
        raise StorageError(
            f"chat row {chat_id} cannot be read: {error!r}", transient=False
        ) from error
