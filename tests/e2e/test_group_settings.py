"""A group's settings, end to end against the Bot API fake (#15): ``/chatsettings`` and
its buttons changed by admins only (``getChatMember`` on each press, remembered for a
minute), a member's press answered with a popup, an anonymous admin acting as the group,
the bot introducing itself once when added, and a group upgraded to a supergroup keeping
its settings. Every case twice: the bot polling, and behind the webhook."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot

from domain.chats import ChatMode, MemberStatus
from entrypoints.telegram.member_status import MemberStatuses
from tests.e2e.conftest import BotUnderTest, RunningBot
from tests.fakes.telegram import SentMessage, TelegramFake

GROUP = -100_4242
ADMIN = 501
MEMBER = 502
SETTINGS_TITLE = "Settings of this chat (only its admins can change them):"
NOT_ADMIN = "Only this chat's admins can change its settings."
PRIVACY_LINE = "Telegram's privacy mode hides ordinary messages from me"


def button_texts(message: SentMessage | None) -> list[str]:
    markup: dict[str, Any] = (message.reply_markup if message else None) or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


def settings_message(fake: TelegramFake, chat_id: int = GROUP) -> SentMessage | None:
    found = [m for m in fake.sent_messages(chat_id) if m.text == SETTINGS_TITLE]
    return found[-1] if found else None


def latest_markup(fake: TelegramFake, message: SentMessage) -> dict[str, Any] | None:
    """The keyboard as last drawn: the sent one, or the latest edit's."""
    edits = [e for e in fake.edits(message.chat_id) if e.message_id == message.message_id]
    return edits[-1].reply_markup if edits else message.reply_markup


def labels(markup: dict[str, Any] | None) -> list[str]:
    return [b["text"] for row in (markup or {}).get("inline_keyboard", []) for b in row]


async def everything_handled(bot: RunningBot | BotUnderTest, within: float = 60) -> None:
    """Every update pushed so far is taken (polled, or posted to the webhook) and settled
    in the inbox."""
    if isinstance(bot, BotUnderTest):
        assert await bot.settled(within)
    else:
        await bot.fake.wait_for_async(lambda: not bot.fake.pending_updates(), timeout=within)
    deadline = time.monotonic() + within
    store = bot.container.processed_updates()
    while await store.unfinished(time.time() + 3600, 10):
        assert time.monotonic() < deadline, "updates left unfinished"
        await asyncio.sleep(0.05)


async def pushed(bot: BotUnderTest, update: dict[str, Any]) -> None:
    await bot.deliver(update)


async def open_settings(bot: BotUnderTest, user: int = ADMIN) -> SentMessage:
    await pushed(bot, bot.fake.push_text(user, GROUP, "/chatsettings"))
    return await bot.fake.wait_for_async(
        lambda: settings_message(bot.fake), timeout=60, message="the chat's settings"
    )


async def test_an_admin_turns_auto_on_with_a_button(  # type: ignore[no-untyped-def]
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    bot = await bot_in_each_mode()
    bot.fake.chat_members[(GROUP, ADMIN)] = "administrator"
    keyboard = await open_settings(bot)
    assert button_texts(keyboard)[0] == "Mode: on request (reply /transcribe)"

    await pushed(bot, bot.fake.push_callback_query(ADMIN, GROUP, "chat:auto:on"))
    await bot.fake.wait_for_async(
        lambda: (
            "Mode: auto (every voice and video note)" in labels(latest_markup(bot.fake, keyboard))
        ),
        timeout=60,
        message="the keyboard redrawn",
    )

    assert [a.text for a in bot.fake.callback_answers()] == ["Saved."]
    stored = await bot.container.chats().get(GROUP)
    assert stored is not None and stored.mode is ChatMode.AUTO
    looked_up = [c.params for c in bot.fake.calls_to("getChatMember")]
    assert [(int(p["chat_id"]), int(p["user_id"])) for p in looked_up] == [(GROUP, ADMIN)]


async def test_a_member_pressing_a_button_gets_a_popup_and_nothing_changes(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    bot = await bot_in_each_mode()
    bot.fake.chat_members[(GROUP, ADMIN)] = "administrator"
    await pushed(bot, bot.fake.push_text(MEMBER, GROUP, "/settings"))  # anybody may look
    keyboard = await bot.fake.wait_for_async(lambda: settings_message(bot.fake), timeout=60)

    await pushed(bot, bot.fake.push_callback_query(MEMBER, GROUP, "chat:sponsor:on"))
    [answer] = await bot.fake.wait_for_async(bot.fake.callback_answers, timeout=60)
    await everything_handled(bot)

    assert (answer.text, answer.show_alert) == (NOT_ADMIN, True)
    assert bot.fake.edits(GROUP) == [], "the keyboard stays as it was"
    assert await bot.container.chats().get(GROUP) is None
    assert [m.text for m in bot.fake.sent_messages(GROUP)] == [keyboard.text], (
        "no word in the group"
    )


async def test_an_anonymous_admin_acts_as_the_group_but_cannot_pay(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    bot = await bot_in_each_mode()
    await pushed(bot, bot.fake.push_anonymous_admin_text(GROUP, "/chatsettings silent on"))
    changed = await bot.fake.wait_for_async(lambda: settings_message(bot.fake), timeout=60)
    assert "Silent (only the result, no status): on" in button_texts(changed)

    await pushed(bot, bot.fake.push_anonymous_admin_text(GROUP, "/chatsettings sponsor on"))
    refusal = "An anonymous admin has no minutes to pay with: turn this on as yourself."
    await bot.fake.wait_for_async(
        lambda: refusal in [m.text for m in bot.fake.sent_messages(GROUP)], timeout=60
    )

    stored = await bot.container.chats().get(GROUP)
    assert stored is not None and stored.silent and stored.sponsor_id is None
    assert bot.fake.calls_to("getChatMember") == [], "acting as the group: nobody to look up"


async def test_a_member_cannot_change_settings_with_the_command_either(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    bot = await bot_in_each_mode()
    await pushed(bot, bot.fake.push_text(MEMBER, GROUP, "/chatsettings auto on"))
    await bot.fake.wait_for_async(
        lambda: NOT_ADMIN in [m.text for m in bot.fake.sent_messages(GROUP)], timeout=60
    )
    assert await bot.container.chats().get(GROUP) is None


async def test_the_bot_added_to_a_group_introduces_itself_once(  # type: ignore[no-untyped-def]
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    bot = await bot_in_each_mode()

    await pushed(bot, bot.fake.push_my_chat_member(GROUP, ADMIN, "member"))
    [hello] = await bot.fake.wait_for_async(
        lambda: bot.fake.sent_messages(GROUP), timeout=60, message="the introduction"
    )
    # Promoted afterwards: it is in the group already, nothing more to say.
    await pushed(
        bot, bot.fake.push_my_chat_member(GROUP, ADMIN, "administrator", old_status="member")
    )
    await everything_handled(bot)

    assert "I turn voice messages, audio and video into text." in hello.text
    assert "Mode here: on request: reply /transcribe" in hello.text
    assert "/chatsettings" in hello.text
    assert PRIVACY_LINE in hello.text, "privacy mode is on (getMe says so)"
    assert len(bot.fake.sent_messages(GROUP)) == 1
    assert bot.fake.calls_to("getMe"), "privacy mode is asked, not assumed"


async def test_without_privacy_mode_or_as_an_admin_the_bot_does_not_warn(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    bot = await bot_in_each_mode()
    await pushed(bot, bot.fake.push_my_chat_member(GROUP, ADMIN, "administrator"))
    [as_admin] = await bot.fake.wait_for_async(lambda: bot.fake.sent_messages(GROUP), timeout=60)
    bot.fake.can_read_all_group_messages = True
    other = GROUP - 1
    await pushed(bot, bot.fake.push_my_chat_member(other, ADMIN, "member"))
    [reading_all] = await bot.fake.wait_for_async(lambda: bot.fake.sent_messages(other), timeout=60)

    assert PRIVACY_LINE not in as_admin.text
    assert PRIVACY_LINE not in reading_all.text
    assert "Mode here: on request" in reading_all.text


async def test_an_auto_group_says_so_when_the_bot_is_added_back(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    bot = await bot_in_each_mode()
    await pushed(bot, bot.fake.push_anonymous_admin_text(GROUP, "/chatsettings auto on"))
    await bot.fake.wait_for_async(lambda: settings_message(bot.fake), timeout=60)
    await pushed(bot, bot.fake.push_my_chat_member(GROUP, ADMIN, "member", old_status="kicked"))
    await bot.fake.wait_for_async(
        lambda: any("Mode here: auto" in m.text for m in bot.fake.sent_messages(GROUP)),
        timeout=60,
    )


async def test_a_group_upgraded_to_a_supergroup_keeps_its_settings(  # type: ignore[no-untyped-def]
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    bot = await bot_in_each_mode()
    group, supergroup = -4242, -100_4243
    await pushed(bot, bot.fake.push_my_chat_member(group, ADMIN, "member", chat_type="group"))
    bot.fake.chat_members[(group, ADMIN)] = "administrator"
    await pushed(bot, bot.fake.push_text(ADMIN, group, "/chatsettings auto on"))
    await bot.fake.wait_for_async(lambda: settings_message(bot.fake, group), timeout=60)
    await everything_handled(bot)

    for update in bot.fake.push_migration(group, supergroup, by_user_id=ADMIN):
        await pushed(bot, update)
    await everything_handled(bot)
    await pushed(bot, bot.fake.push_text(ADMIN, supergroup, "/chatsettings"))
    shown = await bot.fake.wait_for_async(
        lambda: settings_message(bot.fake, supergroup), timeout=60
    )

    assert button_texts(shown)[0] == "Mode: auto (every voice and video note)"
    assert await bot.container.chats().get(group) is None, "the old group's row moved"


async def test_an_admins_standing_is_looked_up_once_a_minute(telegram_fake: TelegramFake) -> None:
    """getChatMember against the fake, through PTB: remembered within the minute, asked
    again after it, and an unknown user (a 400) is nobody's admin."""
    now = [1000.0]
    statuses = MemberStatuses(ttl_seconds=60, clock=lambda: now[0])
    telegram_fake.chat_members[(GROUP, ADMIN)] = "administrator"
    async with Bot(telegram_fake.token, base_url=telegram_fake.base_url) as bot:
        first = await statuses.of(bot, GROUP, ADMIN)
        now[0] += 59
        again = await statuses.of(bot, GROUP, ADMIN)
        telegram_fake.chat_members[(GROUP, ADMIN)] = "member"  # demoted
        now[0] += 2
        later = await statuses.of(bot, GROUP, ADMIN)
        stranger = await statuses.of(bot, 777, 778)  # a private chat that is not theirs

    assert (first, again, later) == (
        MemberStatus.ADMINISTRATOR,
        MemberStatus.ADMINISTRATOR,
        MemberStatus.MEMBER,
    )
    assert stranger is None
    assert len(telegram_fake.calls_to("getChatMember")) == 3
