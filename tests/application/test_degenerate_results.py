"""Recognition that is not a transcript (issue #13): the user's Telegram language reaches
the recognizer as a hint, a loop is recognized once more in that language, and a result
still degenerate is never charged: the job fails, its minutes released, the user told."""

from __future__ import annotations

from application.commands import AcceptVoiceNote
from application.notices import NoticeReason, describe
from domain.jobs import AudioSource, JobStatus, MediaKind, UserStyle
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio

USER = 42
LOOP = " ".join(["et bien"] * 100)  # what Whisper made of a 5 s Russian note
GOOD = "привет это короткая заметка"


def note(language: str | None = None, ui_language: str | None = "ru") -> AcceptVoiceNote:
    return AcceptVoiceNote(
        request_id="tg:a",
        user_id=USER,
        chat_id=USER,
        source=AudioSource(MediaKind.VOICE, "a", "u-a", 5.0),
        style=UserStyle(language=language, ui_language=ui_language),
    )


def minutes(world: World) -> tuple[int, int, int]:
    account = world.accounts.rows[USER]
    return account.balance, account.spent, account.reserved


async def test_the_users_telegram_language_reaches_the_recognizer_as_a_hint(
    world: World,
) -> None:
    world.files.files["a"] = FakeAudio(5.0, GOOD)

    await world.app.bus.handle(note(ui_language="ru"))

    assert world.recognizer.requests == [(None, "ru")]
    assert world.jobs.rows["tg:a"].status is JobStatus.DELIVERED


async def test_a_loop_is_recognized_again_in_the_users_language(world: World) -> None:
    world.files.files["a"] = FakeAudio(5.0, GOOD)
    world.recognizer.answers = [LOOP]

    await world.app.bus.handle(note(ui_language="ru"))

    assert world.recognizer.requests == [(None, "ru"), ("ru", "ru")]
    assert world.messenger.delivered == [("tg:a", f"[local] {GOOD}")]
    assert world.jobs.rows["tg:a"].language == "ru"
    assert minutes(world) == (14, 1, 0)


async def test_a_loop_twice_is_not_charged_and_the_user_is_told(world: World) -> None:
    world.files.files["a"] = FakeAudio(5.0, GOOD)
    world.recognizer.answers = [LOOP, LOOP]

    await world.app.bus.handle(note(ui_language="ru"))

    assert world.recognizer.calls == 2
    assert world.messenger.delivered == []
    assert [n.reason for _, n in world.messenger.notices] == [NoticeReason.NOT_A_TRANSCRIPT]
    job = world.jobs.rows["tg:a"]
    assert job.status is JobStatus.FAILED
    assert job.transcript is None
    assert minutes(world) == (15, 0, 0)


async def test_a_set_language_is_not_retried_in_another(world: World) -> None:
    """The user chose English: a loop in English is not decoded again in Russian."""
    world.files.files["a"] = FakeAudio(5.0, GOOD)
    world.recognizer.answers = [LOOP]

    await world.app.bus.handle(note(language="en", ui_language="ru"))

    assert world.recognizer.requests == [("en", "ru")]
    assert world.jobs.rows["tg:a"].status is JobStatus.FAILED
    assert minutes(world) == (15, 0, 0)


async def test_without_a_hint_a_loop_fails_at_once(world: World) -> None:
    world.files.files["a"] = FakeAudio(5.0, GOOD)
    world.recognizer.answers = [LOOP]

    await world.app.bus.handle(note(ui_language=None))

    assert world.recognizer.requests == [(None, None)]
    assert [n.reason for _, n in world.messenger.notices] == [NoticeReason.NOT_A_TRANSCRIPT]
    assert minutes(world) == (15, 0, 0)


async def test_more_words_than_the_audio_could_hold_is_not_a_transcript(world: World) -> None:
    """No loop, but 60 different words in 5 s."""
    world.files.files["a"] = FakeAudio(5.0, GOOD)
    world.recognizer.answers = [" ".join(f"word{i}" for i in range(60))] * 2

    await world.app.bus.handle(note(ui_language="ru"))

    assert world.recognizer.calls == 2
    assert world.jobs.rows["tg:a"].status is JobStatus.FAILED
    assert minutes(world) == (15, 0, 0)


def test_the_notice_says_nothing_was_charged_in_both_languages() -> None:
    from application.notices import Notice

    notice = Notice(NoticeReason.NOT_A_TRANSCRIPT)

    assert "Nothing was charged" in describe(notice, "en")
    assert "Минуты не списаны" in describe(notice, "ru")
