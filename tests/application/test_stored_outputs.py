"""A delivered transcript sent again in another output mode, from what is stored: the
buttons under a long recording's text (``SendStoredOutput``)."""

from __future__ import annotations

from application.commands import AcceptVoiceNote, SendStoredOutput
from application.handlers.stored_outputs import StoredOutputResult
from domain.jobs import AudioSource, JobStatus, MediaKind, OutputMode
from domain.transcript import Segment
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio

OWNER = 5


async def delivered(world: World) -> str:
    world.files.files["file"] = FakeAudio(30.0, "words said once")
    world.recognizer.segments_of = lambda text: (Segment(0.5, 4.0, text),)
    source = AudioSource(MediaKind.VOICE, "file", "unique", 30.0)
    outcome = await world.app.bus.handle(AcceptVoiceNote("note", OWNER, OWNER, source))
    assert outcome.job_id is not None
    assert world.jobs.rows[outcome.job_id].status is JobStatus.DELIVERED
    return outcome.job_id


async def test_the_owner_gets_the_other_output_with_no_recognition_and_no_charge(
    world: World,
) -> None:
    job_id = await delivered(world)
    calls, spent = world.recognizer.calls, world.accounts.rows[OWNER].spent
    version = world.jobs.rows[job_id].version

    result = await world.app.bus.handle(SendStoredOutput(job_id, OWNER, OutputMode.SRT))

    assert result is StoredOutputResult.SENT
    assert world.messenger.delivered[-1] == (job_id, world.jobs.rows[job_id].transcript)
    sent = world.messenger.delivered_jobs[-1]
    assert sent.style.output is OutputMode.SRT and sent.parts_sent == 0
    assert world.recognizer.calls == calls, "not recognized again"
    assert world.accounts.rows[OWNER].spent == spent, "not charged again"
    stored = world.jobs.rows[job_id]
    assert stored.version == version and stored.style.output is OutputMode.MESSAGES


async def test_someone_else_pressing_the_button_gets_nothing(world: World) -> None:
    job_id = await delivered(world)
    answers = len(world.messenger.delivered)

    result = await world.app.bus.handle(SendStoredOutput(job_id, OWNER + 1, OutputMode.TIMED))

    assert result is StoredOutputResult.NOT_YOURS
    assert len(world.messenger.delivered) == answers


async def test_a_transcript_without_times_or_a_mode_not_offered_sends_nothing(
    world: World,
) -> None:
    untimed = await delivered(world)
    world.jobs.rows[untimed].segments = ()  # as a job stored before segments were kept
    answers = len(world.messenger.delivered)
    for command in (
        SendStoredOutput(untimed, OWNER, OutputMode.SRT),
        SendStoredOutput("no-such-job", OWNER, OutputMode.SRT),
        SendStoredOutput(untimed, OWNER, OutputMode.FILE),
    ):
        assert await world.app.bus.handle(command) is StoredOutputResult.UNAVAILABLE
    assert len(world.messenger.delivered) == answers
