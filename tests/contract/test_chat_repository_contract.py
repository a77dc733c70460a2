"""One contract for every ``ChatRepository``: in memory, SQLite, and Tablestore (the real
SDK against its wire-level fake).

What the group use cases rely on: a chat's settings read back equal (a sponsor that is
removed stays removed), a save names the version it read, so of two admins (or an admin
and a sponsor running out) the one who saved second is refused with ``ConcurrentUpdate``,
and a migration to a supergroup moves the settings once, keeps any the supergroup already
has, and can be repeated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from application.errors import ConcurrentUpdate, StorageError
from application.ports import ChatRepository
from domain.chats import Chat, ChatMode
from infrastructure.sqlite import SqliteChatRepository
from infrastructure.tablestore import TablestoreChatRepository
from tests.application.in_memory_chats import InMemoryChatRepository
from tests.contract.connections import fake_tablestore, sqlite_database

GROUP = -4_000_123_456
SUPERGROUP = -1_004_000_123_456
SPONSOR = 7_000_000_001


@pytest.fixture(params=["in_memory", "sqlite", "tablestore"])
async def chats(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ChatRepository]:
    async with AsyncExitStack() as stack:
        if request.param == "in_memory":
            yield InMemoryChatRepository()
        elif request.param == "sqlite":
            yield SqliteChatRepository(sqlite_database(stack, tmp_path / "chats.db"))
        else:
            yield TablestoreChatRepository(await fake_tablestore(stack))


def sponsored(chat_id: int = GROUP) -> Chat:
    return Chat(chat_id, ChatMode.AUTO, silent=True, include_files=True, sponsor_id=SPONSOR)


async def test_an_unknown_chat_is_none(chats: ChatRepository) -> None:
    assert await chats.get(GROUP) is None
    assert await chats.migrate(GROUP, SUPERGROUP) is None
    assert await chats.get(SUPERGROUP) is None


async def test_a_chat_reads_back_equal(chats: ChatRepository) -> None:
    plain, rich = Chat(GROUP), sponsored(SUPERGROUP)
    for chat in (plain, rich):
        await chats.save(chat)
        assert chat.version == 1
        assert await chats.get(chat.chat_id) == chat


async def test_each_save_bumps_the_version_and_a_removed_sponsor_stays_removed(
    chats: ChatRepository,
) -> None:
    await chats.save(sponsored())
    chat = await chats.get(GROUP)
    assert chat is not None and chat.version == 1
    assert chat.sponsor_ran_out()
    await chats.save(chat)
    chat.set_silent(False)
    await chats.save(chat)

    stored = await chats.get(GROUP)
    assert stored == chat
    assert stored is not None and stored.version == 3
    assert (stored.mode, stored.sponsor_id, stored.silent) == (ChatMode.ON_REQUEST, None, False)
    assert stored.include_files


async def test_a_stale_save_is_refused(chats: ChatRepository) -> None:
    await chats.save(Chat(GROUP))
    admin, sponsor_side = await chats.get(GROUP), await chats.get(GROUP)
    assert admin is not None and sponsor_side is not None
    admin.set_mode(ChatMode.AUTO)
    await chats.save(admin)

    sponsor_side.let_sponsor_pay(SPONSOR)
    with pytest.raises(ConcurrentUpdate):
        await chats.save(sponsor_side)
    assert sponsor_side.version == 1, "a refused save leaves the version alone"
    with pytest.raises(ConcurrentUpdate):
        await chats.save(Chat(GROUP))  # a second "first" save
    stored = await chats.get(GROUP)
    assert stored is not None
    assert (stored.mode, stored.sponsor_id, stored.version) == (ChatMode.AUTO, None, 2)


async def test_saving_a_chat_that_was_never_stored_is_an_error(chats: ChatRepository) -> None:
    ghost = Chat(GROUP, version=3)
    with pytest.raises(StorageError) as raised:
        await chats.save(ghost)
    assert not isinstance(raised.value, ConcurrentUpdate)
    assert await chats.get(GROUP) is None


async def test_a_migration_moves_the_settings_once(chats: ChatRepository) -> None:
    await chats.save(sponsored())
    moved = await chats.migrate(GROUP, SUPERGROUP)

    assert moved is not None and moved.chat_id == SUPERGROUP and moved.version == 1
    assert moved.same_settings_as(sponsored())
    assert await chats.get(GROUP) is None
    assert await chats.get(SUPERGROUP) == moved
    assert await chats.migrate(GROUP, SUPERGROUP) == moved, "announced twice: the same"
    moved.set_mode(ChatMode.ON_REQUEST)
    await chats.save(moved)
    assert await chats.get(SUPERGROUP) == moved


async def test_a_migration_keeps_what_the_supergroup_has_and_removes_the_old_chat(
    chats: ChatRepository,
) -> None:
    await chats.save(sponsored())
    own = Chat(SUPERGROUP, ChatMode.ON_REQUEST, silent=True)
    await chats.save(own)

    assert await chats.migrate(GROUP, SUPERGROUP) == own
    assert await chats.get(GROUP) is None
    assert await chats.get(SUPERGROUP) == own


async def test_a_stale_copy_of_a_migrated_chat_cannot_come_back(chats: ChatRepository) -> None:
    await chats.save(sponsored())
    stale = await chats.get(GROUP)
    assert stale is not None
    await chats.migrate(GROUP, SUPERGROUP)

    stale.set_mode(ChatMode.ON_REQUEST)
    with pytest.raises(StorageError):
        await chats.save(stale)
    assert await chats.get(GROUP) is None
