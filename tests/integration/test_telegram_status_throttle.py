"""The status message's edits (#17): at most one per interval per chat, the newest text
sent when the chat's turn comes (never dropped), with the Stop button while the job can
be stopped (real Bot, Bot API fake)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from application.progress import Progress, Stage
from domain.jobs import AudioSource, MediaKind, UserStyle, VoiceJob
from infrastructure.telegram import TelegramMessenger
from infrastructure.telegram.aiohttp_request import AiohttpRequest
from infrastructure.telegram.stop_button import parse_stop, stop_button
from tests.fakes.telegram import TelegramFake

CHAT = 5160
INTERVAL = 0.5  # short, so the test is quick; the spacing is checked against it


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


async def a_job(bot: Bot, fake: TelegramFake, job_id: str) -> VoiceJob:
    fake.push_text(CHAT, CHAT, "hi")
    status = await bot.send_message(CHAT, "received")
    source = AudioSource(MediaKind.VOICE, "f", "u", 900.0)
    return VoiceJob(
        job_id, CHAT, CHAT, source, 900.0, 15, UserStyle(), 0.0, 0.0,
        status_message_id=status.message_id,
    )  # fmt: skip


async def test_edits_too_soon_wait_for_the_chats_turn_and_send_the_newest_text(
    bot: Bot, telegram_fake: TelegramFake
) -> None:
    first, second = await a_job(bot, telegram_fake, "a"), await a_job(bot, telegram_fake, "b")
    messenger = TelegramMessenger(bot, edit_interval_seconds=INTERVAL)

    await messenger.report_progress(first, Progress(Stage.RECOGNIZING, 1, 6, draft="One."))
    await telegram_fake.wait_for_async(lambda: telegram_fake.edits(CHAT), 30, "the first edit")
    # Too soon after it: these wait for the chat's turn.
    await messenger.report_progress(first, Progress(Stage.RECOGNIZING, 2, 6, draft="One. Two."))
    await messenger.report_progress(first, Progress(Stage.RECOGNIZING, 3, 6, draft="One. Two. 3"))
    await messenger.report_progress(second, Progress(Stage.QUEUED))
    await telegram_fake.wait_for_async(
        lambda: len(telegram_fake.edits(CHAT)) == 3, 30, "three edits"
    )

    edits = telegram_fake.edits(CHAT)
    texts = [e.text for e in edits]
    assert "(1/6)" in texts[0] and "One." in texts[0]
    assert any("(3/6)" in t and "One. Two. 3" in t for t in texts), "the newest, not lost"
    assert not any("(2/6)" in t for t in texts), "an edit overtaken while waiting is skipped"
    times = sorted(e.time for e in edits)
    assert all(b - a >= INTERVAL * 0.9 for a, b in itertools.pairwise(times)), (
        "one edit per interval in the chat, whichever job"
    )
    for edit in edits:
        rows = (edit.reply_markup or {}).get("inline_keyboard", [])
        assert [parse_stop(b["callback_data"]) for row in rows for b in row] in (["a"], ["b"])


async def test_no_stop_button_once_the_text_is_complete(
    bot: Bot, telegram_fake: TelegramFake
) -> None:
    job = await a_job(bot, telegram_fake, "c")
    messenger = TelegramMessenger(bot, edit_interval_seconds=0)
    await messenger.report_progress(job, Progress(Stage.FORMATTING))
    [edit] = await telegram_fake.wait_for_async(lambda: telegram_fake.edits(CHAT), 30, "edit")
    assert not (edit.reply_markup or {}).get("inline_keyboard")


def test_stop_buttons_data_is_parsed_back_and_anything_else_is_refused() -> None:
    markup = stop_button("tg:1:2", "ru")
    assert markup is not None
    [[button]] = markup.inline_keyboard
    assert button.text == "⏹ Остановить" and parse_stop(button.callback_data) == "tg:1:2"  # type: ignore[arg-type]
    assert stop_button("x" * 80, "en") is None, "over Telegram's 64 bytes: no button"
    for junk in (None, "", "stop:", "again:srt:1", "stop" + ":" + "y" * 70):
        assert parse_stop(junk) is None
