"""An answer in several messages is sent part by part, once each: a retried delivery
skips the parts already out (real Bot, Bot API fake)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from application.errors import DeliveryFailed
from domain.jobs import AudioSource, MediaKind, OutputMode, UserStyle, VoiceJob
from infrastructure.telegram import TelegramMessenger
from infrastructure.telegram.aiohttp_request import AiohttpRequest
from tests.fakes.telegram import TelegramFake

CHAT = 6160
LONG = "This sentence is part of a long recording & it keeps going. " * 110  # two messages


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


def make_job(style: UserStyle | None = None, status_message_id: int | None = None) -> VoiceJob:
    source = AudioSource(MediaKind.VOICE, "f", "u", 30.0, file_name="note.ogg")
    return VoiceJob(
        "job-parts", CHAT, CHAT, source, 30.0, 1, style or UserStyle(), 0.0, 0.0,
        status_message_id=status_message_id,
    )  # fmt: skip


def parts_seen(fake: TelegramFake) -> list[str]:
    return [m.plain_text for m in fake.sent_messages(CHAT) if "long recording" in m.plain_text]


async def test_a_retried_delivery_sends_only_the_parts_not_yet_sent(
    bot: Bot, telegram_fake: TelegramFake
) -> None:
    telegram_fake.push_text(CHAT, CHAT, "hi")  # the fake learns the chat
    status = await bot.send_message(CHAT, "received")
    job = make_job(status_message_id=status.message_id)
    messenger = TelegramMessenger(bot)
    telegram_fake.fail_next("sendMessage", 403, chat_id=CHAT, after=1)  # not retried

    with pytest.raises(DeliveryFailed):
        await messenger.deliver(job, LONG)
    assert job.parts_sent == 1 and len(parts_seen(telegram_fake)) == 1
    await messenger.deliver(job, LONG)

    parts = parts_seen(telegram_fake)
    assert len(parts) == 2 and job.parts_sent == 2, "each part once"
    assert "".join(parts).count("long recording & it") == 110, "nothing lost"
    [shown] = [m for m in telegram_fake.sent_messages(CHAT) if m.message_id == status.message_id]
    assert shown.deleted, "the status goes once the answer is whole"


async def test_a_preview_is_not_sent_again_when_the_document_is_retried(
    bot: Bot, telegram_fake: TelegramFake
) -> None:
    telegram_fake.push_text(CHAT, CHAT, "hi")
    job = make_job(UserStyle(output=OutputMode.FILE))  # and no status message at all
    messenger = TelegramMessenger(bot)
    telegram_fake.fail_next("sendDocument", 403, chat_id=CHAT)

    with pytest.raises(DeliveryFailed):
        await messenger.deliver(job, "Short text for a file. " * 5)
    assert job.parts_sent == 1
    await messenger.deliver(job, "Short text for a file. " * 5)

    previews = [m for m in telegram_fake.sent_messages(CHAT) if "Short text" in m.plain_text]
    [document] = telegram_fake.documents(CHAT)
    assert len(previews) == 1 and document.filename == "note.txt"
    assert telegram_fake.calls_to("deleteMessage") == [], "no status to delete"
