"""An in-memory ``ChatRepository`` for the use-case tests, as strict as the real ones:
version-checked saves, copies in and out, and an idempotent migration."""

from __future__ import annotations

import copy

from application.errors import ConcurrentUpdate, StorageError
from domain.chats import Chat


class InMemoryChatRepository:
    def __init__(self) -> None:
        self.rows: dict[int, Chat] = {}

    async def get(self, chat_id: int) -> Chat | None:
        chat = self.rows.get(chat_id)
        return None if chat is None else _copy(chat)

    async def save(self, chat: Chat) -> None:
        stored = self.rows.get(chat.chat_id)
        if chat.version > 0 and stored is None:
            raise StorageError(f"chat {chat.chat_id} is not stored", transient=False)
        if (stored.version if stored else 0) != chat.version:
            raise ConcurrentUpdate(f"chat {chat.chat_id} changed since version {chat.version}")
        chat.version += 1
        self.rows[chat.chat_id] = _copy(chat)

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> Chat | None:
        old = self.rows.get(old_chat_id)
        if old is not None and old_chat_id != new_chat_id:
            if new_chat_id not in self.rows:
                moved = old.migrated_to(new_chat_id)
                moved.version = 1
                self.rows[new_chat_id] = moved
            del self.rows[old_chat_id]
        return await self.get(new_chat_id)


def _copy(chat: Chat) -> Chat:
    copied = copy.deepcopy(chat)
    copied.events.clear()
    return copied
