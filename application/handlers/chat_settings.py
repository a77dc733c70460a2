"""Use cases: a group's settings (mode, silent, files, who pays) read, changed by its
administrators, and carried over when the group becomes a supergroup.

Who may change them is the domain's decision (``domain.chats.may_change_settings``, and
``may_sponsor`` for paying): the entrypoint only looks up the presser's standing in the
chat and passes it along. A change is a value, not a flip, so a retried tap lands once;
two admins pressing at the same moment meet the repository's version check and the
later one is applied again on the fresh record.
"""

from __future__ import annotations

from enum import StrEnum

import attrs

from application.commands import ChangeChatSettings, ChatSetting, MigrateChat
from application.errors import ConcurrentUpdate
from application.ports import ChatRepository
from domain.chats import Chat, ChatMode, may_change_settings, may_sponsor

# Version conflicts retried before giving up (each is another writer's completed change).
CONFLICT_ATTEMPTS = 5


class Refusal(StrEnum):
    NOT_ADMIN = "not_admin"  # only the chat's administrators change its settings
    CANNOT_PAY = "cannot_pay"  # an anonymous admin has no minutes to sponsor with


@attrs.frozen
class ChatSettingsOutcome:
    """The chat's settings after the command, and why nothing changed when refused."""

    chat: Chat
    refusal: Refusal | None = None


class ChatSettings:
    def __init__(self, chats: ChatRepository) -> None:
        self._chats = chats

    async def of(self, chat_id: int) -> Chat:
        """The chat's settings; the defaults for a chat never changed."""
        return await self._chats.get(chat_id) or Chat(chat_id)

    async def change(self, command: ChangeChatSettings) -> ChatSettingsOutcome:
        allowed = may_change_settings(
            command.chat_type, command.chat_id, command.sender, command.member_status
        )
        if not allowed:
            return ChatSettingsOutcome(await self.of(command.chat_id), Refusal.NOT_ADMIN)
        sponsoring = command.setting is ChatSetting.SPONSOR and command.enabled
        if sponsoring and not may_sponsor(
            command.chat_type, command.chat_id, command.sender, command.member_status
        ):
            return ChatSettingsOutcome(await self.of(command.chat_id), Refusal.CANNOT_PAY)
        for attempt in range(CONFLICT_ATTEMPTS):
            chat = await self.of(command.chat_id)
            before = attrs.evolve(chat, events=[])
            _apply(chat, command)
            if chat.same_settings_as(before):
                return ChatSettingsOutcome(chat)
            try:
                await self._chats.save(chat)
            except ConcurrentUpdate:
                if attempt == CONFLICT_ATTEMPTS - 1:
                    raise
                continue
            return ChatSettingsOutcome(chat)
        raise AssertionError("unreachable")  # pragma: no cover

    async def migrate(self, command: MigrateChat) -> Chat | None:
        """Idempotent: both of Telegram's announcements of one migration may arrive, in
        either order, and each may be retried."""
        return await self._chats.migrate(command.old_chat_id, command.new_chat_id)


def _apply(chat: Chat, command: ChangeChatSettings) -> None:
    enabled = command.enabled
    if command.setting is ChatSetting.AUTO:
        chat.set_mode(ChatMode.AUTO if enabled else ChatMode.ON_REQUEST)
    elif command.setting is ChatSetting.SILENT:
        chat.set_silent(enabled)
    elif command.setting is ChatSetting.FILES:
        chat.set_include_files(enabled)
    elif not enabled:
        chat.let_requesters_pay()
    elif chat.sponsor_id is None:
        # The admin who turns it on pays; pressed again by another admin, the sponsor
        # stays who it was (a retried or doubled tap never moves the bill).
        chat.let_sponsor_pay(command.sender.user_id)
