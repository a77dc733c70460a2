"""A group's settings use case on the in-memory chat repository: who may change them,
who becomes the sponsor, idempotent taps, two admins at once, and migration."""

from __future__ import annotations

import asyncio

from application.commands import ChangeChatSettings, ChatSetting, MigrateChat
from application.handlers.chat_settings import ChatSettings, Refusal
from domain.chats import GROUP_ANONYMOUS_BOT_ID, Chat, ChatMode, ChatType, MemberStatus, Sender
from tests.application.in_memory_chats import InMemoryChatRepository

GROUP = -100_500
ADMIN = 11
MEMBER = 12
AN_ADMIN = Sender(ADMIN)


def change(
    setting: ChatSetting,
    enabled: bool,
    *,
    sender: Sender = AN_ADMIN,
    status: MemberStatus | None = MemberStatus.ADMINISTRATOR,
    chat_type: ChatType = ChatType.SUPERGROUP,
) -> ChangeChatSettings:
    return ChangeChatSettings(GROUP, chat_type, sender, status, setting, enabled)


async def test_an_admin_turns_auto_on_and_it_is_stored() -> None:
    chats = InMemoryChatRepository()
    settings = ChatSettings(chats)

    outcome = await settings.change(change(ChatSetting.AUTO, True))

    assert outcome.refusal is None
    assert outcome.chat.mode is ChatMode.AUTO
    assert (await settings.of(GROUP)).mode is ChatMode.AUTO


async def test_a_member_is_refused_and_nothing_is_stored() -> None:
    chats = InMemoryChatRepository()
    settings = ChatSettings(chats)

    outcome = await settings.change(
        change(ChatSetting.AUTO, True, sender=Sender(MEMBER), status=MemberStatus.MEMBER)
    )

    assert outcome.refusal is Refusal.NOT_ADMIN
    assert outcome.chat.mode is ChatMode.ON_REQUEST
    assert chats.rows == {}


async def test_an_unknown_standing_is_not_an_admin() -> None:
    settings = ChatSettings(InMemoryChatRepository())
    outcome = await settings.change(change(ChatSetting.SILENT, True, status=None))
    assert outcome.refusal is Refusal.NOT_ADMIN


async def test_an_anonymous_admin_acts_as_the_chat_but_cannot_pay() -> None:
    settings = ChatSettings(InMemoryChatRepository())
    anonymous = Sender(GROUP_ANONYMOUS_BOT_ID, sender_chat_id=GROUP)

    changed = await settings.change(change(ChatSetting.AUTO, True, sender=anonymous, status=None))
    paying = await settings.change(change(ChatSetting.SPONSOR, True, sender=anonymous, status=None))

    assert changed.refusal is None and changed.chat.mode is ChatMode.AUTO
    assert paying.refusal is Refusal.CANNOT_PAY
    assert (await settings.of(GROUP)).sponsor_id is None


async def test_the_admin_who_turns_sponsoring_on_pays_and_a_second_tap_keeps_them() -> None:
    settings = ChatSettings(InMemoryChatRepository())

    await settings.change(change(ChatSetting.SPONSOR, True))
    again = await settings.change(change(ChatSetting.SPONSOR, True, sender=Sender(99)))

    assert again.chat.sponsor_id == ADMIN
    off = await settings.change(change(ChatSetting.SPONSOR, False))
    assert off.chat.sponsor_id is None


async def test_a_repeated_tap_saves_nothing_new() -> None:
    chats = InMemoryChatRepository()
    settings = ChatSettings(chats)

    await settings.change(change(ChatSetting.SILENT, True))
    await settings.change(change(ChatSetting.SILENT, True))

    assert chats.rows[GROUP].silent is True
    assert chats.rows[GROUP].version == 1


class InterleavingChatRepository(InMemoryChatRepository):
    """Lets every other writer read before anyone saves: concurrent taps conflict."""

    async def get(self, chat_id: int) -> Chat | None:
        chat = await super().get(chat_id)
        await asyncio.sleep(0)
        return chat


async def test_two_admins_at_once_both_changes_land() -> None:
    chats = InterleavingChatRepository()
    settings = ChatSettings(chats)

    await asyncio.gather(
        settings.change(change(ChatSetting.AUTO, True)),
        settings.change(change(ChatSetting.FILES, True, sender=Sender(13))),
        settings.change(change(ChatSetting.SILENT, True, sender=Sender(14))),
    )

    stored = await settings.of(GROUP)
    assert (stored.mode, stored.include_files, stored.silent) == (ChatMode.AUTO, True, True)


async def test_migration_keeps_the_settings_under_the_supergroups_id_once() -> None:
    chats = InMemoryChatRepository()
    settings = ChatSettings(chats)
    await settings.change(change(ChatSetting.AUTO, True, chat_type=ChatType.GROUP))
    supergroup = -100_900

    moved = await settings.migrate(MigrateChat(GROUP, supergroup))
    again = await settings.migrate(MigrateChat(GROUP, supergroup))

    assert moved is not None and moved.mode is ChatMode.AUTO
    assert again is not None and again.mode is ChatMode.AUTO
    assert set(chats.rows) == {supergroup}
