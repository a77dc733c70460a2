"""Progress never holds a job up, and never lands after the answer (real Bot, Bot API fake)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from application.progress import Progress, Stage
from domain.jobs import AudioSource, MediaKind, UserStyle, VoiceJob
from infrastructure.telegram import TelegramMessenger
from infrastructure.telegram.aiohttp_request import AiohttpRequest
from tests.fakes.telegram import Call, TelegramFake

CHAT = 5150


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


async def job_with_status(bot: Bot, fake: TelegramFake) -> VoiceJob:
    fake.push_text(CHAT, CHAT, "hi")  # the fake learns the chat
    status = await bot.send_message(CHAT, "received")
    source = AudioSource(MediaKind.VOICE, "f", "u", 30.0)
    return VoiceJob(
        "job-1", CHAT, CHAT, source, 30.0, 1, UserStyle(), 0.0, 0.0,
        status_message_id=status.message_id,
    )  # fmt: skip


async def test_reporting_progress_does_not_wait_for_telegram(
    bot: Bot, telegram_fake: TelegramFake
) -> None:
    job = await job_with_status(bot, telegram_fake)
    telegram_fake.set_latency("editMessageText", 1.0)
    messenger = TelegramMessenger(bot, edit_interval_seconds=0)

    await messenger.report_progress(job, Progress(Stage.RECOGNIZING))
    edits = telegram_fake.calls_to("editMessageText")
    assert all(edit.finished is None for edit in edits), "the job went on before the edit"
    await on_the_wire(telegram_fake, "editMessageText")
    await messenger.deliver(job, "the transcript")

    edit = telegram_fake.calls_to("editMessageText")[0]
    answer = telegram_fake.calls_to("sendMessage")[-1]
    assert edit.finished is not None and edit.finished <= answer.time, "edit, then answer"


async def test_an_edit_not_yet_sent_when_the_answer_goes_out_is_dropped(
    bot: Bot, telegram_fake: TelegramFake
) -> None:
    job = await job_with_status(bot, telegram_fake)
    messenger = TelegramMessenger(bot, edit_interval_seconds=0)

    await messenger.report_progress(job, Progress(Stage.RECOGNIZING))
    await messenger.deliver(job, "the transcript")  # before the edit could start

    assert telegram_fake.calls_to("editMessageText") == []
    assert telegram_fake.sent_messages(CHAT)[-1].plain_text == "the transcript"


async def test_edits_not_yet_sent_are_dropped_once_the_answer_goes_out(
    bot: Bot, telegram_fake: TelegramFake
) -> None:
    job = await job_with_status(bot, telegram_fake)
    telegram_fake.set_latency("sendChatAction", 0.3)
    messenger = TelegramMessenger(bot, edit_interval_seconds=0)

    await messenger.report_progress(job, Progress(Stage.CONVERTING))
    await on_the_wire(telegram_fake, "sendChatAction")
    for stage in (Stage.RECOGNIZING, Stage.FORMATTING):  # queued behind it
        await messenger.report_progress(job, Progress(stage))
    await messenger.deliver(job, "the transcript")

    assert len(telegram_fake.calls_to("sendChatAction")) == 1, "only the one on the wire"
    assert telegram_fake.sent_messages(CHAT)[-1].plain_text == "the transcript"
    assert telegram_fake.calls_to("deleteMessage"), "the status message is gone"


async def test_a_hanging_progress_edit_gives_up_and_the_answer_still_goes_out(
    bot: Bot, telegram_fake: TelegramFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("infrastructure.telegram.messenger.PROGRESS_TIMEOUT_SECONDS", 0.3)
    job = await job_with_status(bot, telegram_fake)
    telegram_fake.set_latency("sendChatAction", 60.0)  # ends when the fake stops
    messenger = TelegramMessenger(bot, edit_interval_seconds=0)

    await messenger.report_progress(job, Progress(Stage.RECOGNIZING))
    hanging = await on_the_wire(telegram_fake, "sendChatAction")
    await messenger.deliver(job, "the transcript")

    assert hanging.finished is None, "the answer did not wait for the hanging edit"
    assert telegram_fake.sent_messages(CHAT)[-1].plain_text == "the transcript"


async def on_the_wire(fake: TelegramFake, method: str) -> Call:
    """The first call of ``method`` once the fake has received it (it answers later)."""
    calls = await fake.wait_for_async(lambda: fake.calls_to(method), 30.0, f"{method} sent")
    return calls[0]
