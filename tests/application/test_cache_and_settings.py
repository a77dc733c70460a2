"""The transcript cache and per-user settings."""

from __future__ import annotations

from application.commands import AcceptVoiceNote, SetRecognitionLanguage, Setting, ToggleSetting
from application.reports import Acceptance
from domain.jobs import AudioSource, JobStatus, MediaKind, OutputMode, UserStyle
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio


def send(request: str, style: UserStyle | None = None) -> AcceptVoiceNote:
    source = AudioSource(MediaKind.VOICE, "file", "same-unique-id", 30.0)
    return AcceptVoiceNote(request, 5, 5, source, style or UserStyle())


async def test_the_same_file_with_the_same_settings_is_answered_free_from_the_cache(
    world: World,
) -> None:
    world.files.files["file"] = FakeAudio(30.0, "cached words")
    await world.app.bus.handle(send("first"))
    calls, spent = world.recognizer.calls, world.accounts.rows[5].spent

    outcome = await world.app.bus.handle(send("second", UserStyle(output=OutputMode.FILE)))

    assert outcome.acceptance is Acceptance.CACHED
    assert world.recognizer.calls == calls, "no second recognition"
    assert world.accounts.rows[5].spent == spent == 1, "not charged again"
    assert world.messenger.delivered[-1] == ("second", world.messenger.delivered[0][1])
    assert world.jobs.rows["second"].status is JobStatus.DELIVERED


async def test_other_settings_that_change_the_text_are_transcribed_again(world: World) -> None:
    world.files.files["file"] = FakeAudio(30.0, "ёж")
    await world.app.bus.handle(send("first"))
    outcome = await world.app.bus.handle(send("second", UserStyle(use_yo=False)))
    assert outcome.acceptance is Acceptance.PROCESSED
    assert world.messenger.delivered[-1] == ("second", "[local] еж")
    assert world.accounts.rows[5].spent == 2


async def test_failed_jobs_are_never_served_from_the_cache(world: World) -> None:
    world.files.files["file"] = FakeAudio(30.0, "  ")
    await world.app.bus.handle(send("first"))
    outcome = await world.app.bus.handle(send("second"))
    assert outcome.acceptance is Acceptance.PROCESSED
    assert world.recognizer.calls == 2


async def test_settings_toggle_and_persist(world: World) -> None:
    assert await world.app.preferences.of(3) == UserStyle()
    await world.app.bus.handle(ToggleSetting(3, Setting.CODE))
    await world.app.bus.handle(ToggleSetting(3, Setting.YO))
    await world.app.bus.handle(ToggleSetting(3, Setting.OUTPUT))
    await world.app.bus.handle(SetRecognitionLanguage(3, "ru"))
    expected = UserStyle(use_yo=False, use_code_tags=True, language="ru", output=OutputMode.FILE)
    assert world.settings.rows[3] == expected
    await world.app.bus.handle(ToggleSetting(3, Setting.OUTPUT))
    assert (await world.app.preferences.of(3)).output is OutputMode.MESSAGES
    assert await world.app.preferences.of(4) == UserStyle(), "other users keep the defaults"
