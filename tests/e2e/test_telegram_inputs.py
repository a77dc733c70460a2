"""What users send and what they are told: every media kind, limits, languages, the cache."""

from __future__ import annotations

from tests.e2e.conftest import RunningBot
from tests.e2e.test_telegram_bot import USER, scripted, visible
from tests.media_clips import SAMPLES, silence


def note_bytes() -> bytes:
    return (SAMPLES / "en-weather.ogg").read_bytes()


async def test_every_media_kind_is_accepted(start_bot) -> None:  # type: ignore[no-untyped-def]
    recognizer, prepare = scripted("heard it")
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    fake.push_audio(USER, USER, fake.register_file(note_bytes()), duration=10)
    fake.push_video(USER, USER, fake.register_file(note_bytes()), duration=10)
    fake.push_video_note(USER, USER, fake.register_file(note_bytes()), duration=10)
    fake.push_document(
        USER, USER, fake.register_file(note_bytes()), mime_type="audio/ogg", file_name="a.ogg"
    )
    fake.push_document(
        USER,
        USER,
        fake.register_file(note_bytes()),
        mime_type="application/octet-stream",
        file_name="meeting.m4a",
    )
    await fake.wait_for_async(
        lambda: len([t for t in visible(bot) if t == "heard it"]) == 5, timeout=60
    )
    assert recognizer.calls == 5


async def test_the_same_file_again_is_answered_from_the_cache_and_not_charged(start_bot) -> None:  # type: ignore[no-untyped-def]
    recognizer, prepare = scripted("remembered text")
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    file_id = fake.register_file(note_bytes())
    fake.push_voice(USER, USER, file_id, duration=10)
    await fake.wait_for_async(lambda: [t for t in visible(bot) if t == "remembered text"])
    fake.push_voice(USER, USER, file_id, duration=10)
    await fake.wait_for_async(
        lambda: len([t for t in visible(bot) if t == "remembered text"]) == 2, timeout=30
    )
    account = await bot.container.accounts().get(USER)
    assert recognizer.calls == 1
    assert account is not None and (account.spent, account.balance) == (1, 14)


async def test_a_file_over_the_download_limit_is_explained(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot()
    fake = bot.fake
    file_id = fake.register_file(b"x" * 100, file_size=25 * 1024 * 1024)
    fake.push_document(USER, USER, file_id, mime_type="video/mp4", file_name="talk.mp4")
    await fake.wait_for_async(lambda: [t for t in visible(bot) if "too large" in t], timeout=30)
    account = await bot.container.accounts().get(USER)
    assert account is None or (account.reserved, account.spent) == (0, 0)


async def test_problems_are_told_in_the_users_language(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot()
    fake = bot.fake
    fake.push_voice(
        USER, USER, fake.register_file(b"this is not audio"), duration=3, language_code="ru"
    )
    fake.push_voice(
        USER + 1, USER + 1, fake.register_file(b"neither is this"), duration=3, language_code="en"
    )
    [russian] = await fake.wait_for_async(
        lambda: [t for t in visible(bot, USER) if "Не удалось" in t], timeout=30
    )
    [english] = await fake.wait_for_async(
        lambda: [t for t in visible(bot, USER + 1) if "could not" in t], timeout=30
    )
    assert "Traceback" not in russian + english and "Error" not in russian + english
    assert english == "This file could not be read as audio."


async def test_silence_gets_no_speech_and_costs_nothing(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted("")
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    fake.push_voice(USER, USER, fake.register_file(silence()), duration=3)
    await fake.wait_for_async(lambda: [t for t in visible(bot) if "No speech" in t], timeout=30)
    account = await bot.container.accounts().get(USER)
    assert account is not None and (account.balance, account.spent) == (15, 0)


async def test_a_note_over_the_rate_limit_is_queued_for_later_with_its_place(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted("fine")
    bot: RunningBot = start_bot(prepare, RATE_LIMIT_PER_MINUTE="2")
    fake = bot.fake
    for _ in range(3):
        fake.push_voice(USER, USER, fake.register_file(note_bytes()), duration=10)
    # The deferred one starts a minute later: its place shows until then.
    await fake.wait_for_async(
        lambda: [t for t in visible(bot) if "In the queue, position 1" in t], timeout=50
    )
    await fake.wait_for_async(
        lambda: len([t for t in visible(bot) if t == "fine"]) >= 2, timeout=60
    )
    assert not [t for t in visible(bot) if "wait" in t], "nobody is asked to send it again"
    account = await bot.container.accounts().get(USER)
    assert account is not None
    assert account.reserved + account.spent == 3, "its minute is held for it (or spent)"


async def test_balance_and_help_commands(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot(TRIAL_MINUTES="15")
    fake = bot.fake
    fake.push_text(USER, USER, "/balance")
    fake.push_text(USER + 1, USER + 1, "/help", language_code="ru")
    fake.push_text(USER + 2, USER + 2, "/nonsense")
    await fake.wait_for_async(lambda: [t for t in visible(bot, USER) if "15" in t])
    await fake.wait_for_async(lambda: [t for t in visible(bot, USER + 1) if "голосовые" in t])
    await fake.wait_for_async(lambda: [t for t in visible(bot, USER + 2) if "/help" in t])
