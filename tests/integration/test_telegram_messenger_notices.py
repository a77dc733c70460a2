""" "Not enough minutes" carries the Buy buttons when the messenger says it too (a job whose
measured length raised its price past the balance), not only at acceptance (real Bot,
Bot API fake)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import attrs
import pytest
from telegram import Bot

from application.notices import Notice, NoticeReason
from domain.catalogue import DEFAULT_PACKAGES
from domain.jobs import AudioSource, MediaKind, UserStyle, VoiceJob
from infrastructure.telegram import TelegramMessenger
from infrastructure.telegram.aiohttp_request import AiohttpRequest
from infrastructure.telegram.buy_buttons import BUY_PREFIX
from tests.fakes.telegram import TelegramFake

CHAT = 6170
SHORT = Notice(NoticeReason.INSUFFICIENT_MINUTES, needed_minutes=9, balance_minutes=2)


@pytest.fixture
async def bot(telegram_fake: TelegramFake) -> AsyncIterator[Bot]:
    bot = Bot(
        telegram_fake.token,
        base_url=telegram_fake.base_url,
        base_file_url=telegram_fake.base_file_url,
        request=AiohttpRequest(pool_size=4),
    )
    async with bot:
        yield bot


def make_job(status_message_id: int | None) -> VoiceJob:
    source = AudioSource(MediaKind.VOICE, "f", "u", 540.0)
    return VoiceJob(
        "job-buy", CHAT, CHAT, source, 540.0, 9, UserStyle(ui_language="ru"), 0.0, 0.0,
        status_message_id=status_message_id,
    )  # fmt: skip


def buttons(markup: dict[str, object] | None) -> list[str]:
    rows = markup["inline_keyboard"] if markup else []
    return [str(button["callback_data"]) for row in rows for button in row]  # type: ignore[index, union-attr, attr-defined]


async def test_not_enough_minutes_said_by_the_messenger_offers_each_package(
    telegram_fake: TelegramFake, bot: Bot
) -> None:
    status = await bot.send_message(CHAT, "Received")
    messenger = TelegramMessenger(bot, packages=DEFAULT_PACKAGES)

    await messenger.notify(make_job(status.message_id), SHORT)  # edited into the status
    await messenger.notify(make_job(None), SHORT)  # no status: a message of its own

    [edit] = telegram_fake.edits(CHAT)
    sent = telegram_fake.sent_messages(CHAT)[-1]
    expected = [f"{BUY_PREFIX}{package.package_id}" for package in DEFAULT_PACKAGES]
    assert buttons(edit.reply_markup) == expected
    assert buttons(sent.reply_markup) == expected
    assert "мин" in sent.plain_text, "in the user's language, with its units"


async def test_other_notices_carry_no_buttons(telegram_fake: TelegramFake, bot: Bot) -> None:
    messenger = TelegramMessenger(bot, packages=DEFAULT_PACKAGES)
    await messenger.notify(make_job(None), Notice(NoticeReason.NO_SPEECH))
    assert telegram_fake.sent_messages(CHAT)[-1].reply_markup is None


async def test_in_a_group_a_note_nobody_asked_for_gets_no_notice_one_asked_for_does(
    telegram_fake: TelegramFake, bot: Bot
) -> None:
    group = -100_617
    messenger = TelegramMessenger(bot, packages=DEFAULT_PACKAGES)
    source = AudioSource(MediaKind.VOICE, "f", "u", 20.0)
    automatic = VoiceJob(
        "auto", CHAT, group, attrs.evolve(source, asked_for=False), 20.0, 1, UserStyle(), 0, 0
    )
    requested = VoiceJob("asked", CHAT, group, source, 20.0, 1, UserStyle(), 0, 0)

    await messenger.notify(automatic, Notice(NoticeReason.NO_SPEECH))
    assert telegram_fake.sent_messages(group) == [], "no error replies in a group"

    await messenger.notify(requested, Notice(NoticeReason.NO_SPEECH))
    assert len(telegram_fake.sent_messages(group)) == 1, "the one who asked is answered"
