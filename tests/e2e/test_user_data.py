"""The user's data end to end (#17): the bot polling the Bot API fake, SQLite behind.

``/privacy`` tells what this configuration keeps and who sees it; ``/forget`` asks first
and erases only on "Yes" (then ``/balance`` lists no job, the minutes stay); in a group
both answer privately; the retention sweep, on a clock moved a month on, erases old
transcripts (the same file is then recognized again); and after a job no audio byte is
left in the database or anywhere in the data directory.
"""

from __future__ import annotations

import time
from pathlib import Path

import attrs
import pytest
from dependency_injector import providers

from application.queue_consumer import sweep_once
from domain.retention import DAY_SECONDS
from tests.e2e.conftest import BotUnderTest, RunningBot
from tests.e2e.test_groups import GROUP, all_handled, push_command
from tests.e2e.test_telegram_bot import scripted, visible
from tests.media_clips import SAMPLES

USER = 4343
WORDS = "words I would rather not keep"
NOTE = (SAMPLES / "en-weather.ogg").read_bytes()


@attrs.define
class MovableClock:
    """The system's clock, moved on by ``offset`` seconds (the container's ``Clock``)."""

    offset: float = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic()


async def transcribe(bot: RunningBot, file_unique_id: str | None = None) -> None:
    fake = bot.fake
    before = len([t for t in visible(bot, USER) if WORDS in t])
    fake.push_voice(USER, USER, fake.register_file(NOTE, file_unique_id), duration=10)
    await fake.wait_for_async(
        lambda: len([t for t in visible(bot, USER) if WORDS in t]) > before, timeout=60
    )
    await all_handled(bot)


async def balance(bot: RunningBot) -> str:
    fake = bot.fake
    count = len(fake.sent_messages(USER))
    fake.push_text(USER, USER, "/balance")
    await fake.wait_for_async(lambda: len(fake.sent_messages(USER)) > count, timeout=30)
    return fake.sent_messages(USER)[-1].plain_text


async def test_forget_asks_first_then_balance_shows_no_jobs_and_the_minutes_stay(
    start_bot,  # type: ignore[no-untyped-def]
) -> None:
    _, prepare = scripted(WORDS)
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    fake.push_text(USER, USER, "/code")  # a setting to forget
    await transcribe(bot)
    assert (await balance(bot)).count("— done") == 1

    fake.push_text(USER, USER, "/forget")
    [question] = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if "Erase your data" in m.plain_text],
        timeout=30,
    )
    await all_handled(bot)
    assert question.reply_markup is not None
    assert "payment records stay" in question.plain_text
    assert await bot.container.jobs().list_by_user(USER, 10), "nothing erased before Yes"

    fake.push_callback_query(USER, USER, "forget:yes", message_id=question.message_id)
    await fake.wait_for_async(lambda: "Erased —" in question.plain_text, timeout=30)
    await all_handled(bot)

    assert question.plain_text.startswith(
        "Erased — transcripts: 1; recordings in all, with their cached results: 1;"
    )
    assert "your settings" in question.plain_text
    assert "payment records" in question.plain_text
    assert await balance(bot) == "Minutes left: 14. Used this month: 0."
    assert await bot.container.preferences().get(USER) is None


async def test_cancel_erases_nothing(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted(WORDS)
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    await transcribe(bot)
    fake.push_text(USER, USER, "/forget")
    [question] = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if "forget:" in str(m.reply_markup)],
        timeout=30,
    )
    fake.push_callback_query(USER, USER, "forget:no", message_id=question.message_id)
    await fake.wait_for_async(lambda: question.plain_text == "Nothing was erased.", timeout=30)
    await all_handled(bot)
    assert (await balance(bot)).count("— done") == 1


async def test_privacy_tells_the_offline_profile_keeps_audio_from_everyone(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot(TRANSCRIPT_RETENTION_DAYS="12")
    fake = bot.fake
    fake.push_text(USER, USER, "/privacy", language_code="ru")
    [answer] = await fake.wait_for_async(lambda: fake.sent_messages(USER), timeout=30)
    assert "Удаляются через 12 дн." in answer.plain_text
    assert "Кто слышит ваше аудио: никто посторонний" in answer.plain_text
    assert "DashScope" not in answer.plain_text and "Google" not in answer.plain_text
    assert len(answer.plain_text) <= 4096
    commands = {command["command"] for command in fake.my_commands()}
    assert {"privacy", "forget"} <= commands, "both in the command menu"
    in_groups = {c["command"] for c in fake.my_commands({"type": "all_group_chats"})}
    assert {"privacy", "forget"} <= in_groups, "and in the groups' menu"


async def test_in_a_group_privacy_and_forget_answer_privately(bot_in_each_mode) -> None:  # type: ignore[no-untyped-def]
    bot: BotUnderTest = await bot_in_each_mode()
    fake = bot.fake
    await push_command(bot, USER, "/privacy")
    await push_command(bot, USER, "/forget")
    await fake.wait_for_async(lambda: len(fake.sent_messages(USER)) == 2, timeout=30)
    await all_handled(bot)
    private = fake.sent_messages(USER)
    assert any("Your data" in m.plain_text for m in private)
    assert any(m.reply_markup and "Erase your data" in m.plain_text for m in private)
    assert fake.sent_messages(GROUP) == [], "not a word in the group"


async def test_the_retention_sweep_erases_a_month_old_transcript(start_bot) -> None:  # type: ignore[no-untyped-def]
    recognizer, prepare = scripted(WORDS)
    clock = MovableClock()

    def with_clock(container) -> None:  # type: ignore[no-untyped-def]
        prepare(container)
        container.clock.override(providers.Object(clock))

    bot: RunningBot = start_bot(with_clock)
    await transcribe(bot, "the-same-file")
    await transcribe(bot, "the-same-file")  # answered from the stored transcript
    assert recognizer.calls == 1
    bus = bot.container.use_cases().bus
    stale = bot.container.settings().stale_after_seconds
    clock.offset = 29 * DAY_SECONDS
    await sweep_once(bus, stale)
    assert (await balance(bot)).count("— done") == 2, "29 days: kept"

    clock.offset = 31 * DAY_SECONDS
    await sweep_once(bus, stale)

    assert "— done" not in await balance(bot)
    await transcribe(bot, "the-same-file")
    assert recognizer.calls == 2, "the cache missed: recognized again"


@pytest.mark.slow
async def test_no_audio_is_left_in_the_database_or_the_data_dir_after_a_job(
    start_bot,  # type: ignore[no-untyped-def]
    bot_settings: dict[str, str],
) -> None:
    bot: RunningBot = start_bot()  # the offline profile, the real recognizer
    fake = bot.fake
    fake.push_voice(USER, USER, fake.register_file(NOTE), duration=10)
    await fake.wait_for_async(
        lambda: any("weather" in t.lower() for t in visible(bot, USER)), timeout=120
    )
    await all_handled(bot)

    stored = everything_in(Path(bot_settings["VOICESCRIBE_DATA_DIR"]))
    assert b"weather" in b"".join(stored.values()).lower(), "the scan sees what was stored"
    pieces = [NOTE[at : at + 64] for at in range(len(NOTE) // 8, len(NOTE) - 64, len(NOTE) // 8)]
    for name, content in stored.items():
        assert b"OggS" not in content, f"an Ogg page in {name}"
        assert not any(piece in content for piece in pieces), f"audio bytes in {name}"


def everything_in(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (the database, its WAL, anything else), by name."""
    return {str(path): path.read_bytes() for path in directory.rglob("*") if path.is_file()}


async def test_an_answer_telegram_refused_is_given_on_the_retry_with_the_first_counts(
    start_bot,  # type: ignore[no-untyped-def]
) -> None:
    _, prepare = scripted(WORDS)
    bot: RunningBot = start_bot(prepare, TELEGRAM_NETWORK_RETRIES="0")
    fake = bot.fake
    await transcribe(bot)
    fake.push_text(USER, USER, "/forget")
    [question] = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if "forget:" in str(m.reply_markup)],
        timeout=30,
    )
    await all_handled(bot)
    fake.fail_next("editMessageText", 400, "Bad Request: message to edit not found")
    fake.fail_next("sendMessage", 500, chat_id=USER)

    fake.push_callback_query(USER, USER, "forget:yes", message_id=question.message_id)

    await fake.wait_for_async(lambda: "Erased —" in question.plain_text, timeout=60)
    assert fake.unspent_failures() == [], "both answers failed once"
    assert question.plain_text.startswith("Erased — transcripts: 1;"), "not the retry's 0"
