"""A processed job keeps the recognizer's timed segments with its text (subtitles are made
from them later without recognizing again), and a cached answer keeps them too. A job whose
output needs times is recognized in cue-sized chunks by a recognizer without times, and a
transcript made for plain text by one does not answer such a job from the cache (one made
by a recognizer with times does)."""

from __future__ import annotations

from application.bootstrap import Tuning, bootstrap
from application.commands import AcceptVoiceNote
from application.reports import Acceptance
from domain.jobs import AudioSource, MediaKind, OutputMode, UserStyle
from domain.policies import TranscriptionPolicy
from domain.transcript import Segment
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio


def send(request: str, output: OutputMode = OutputMode.MESSAGES) -> AcceptVoiceNote:
    source = AudioSource(MediaKind.VOICE, "file", "same-unique-id", 30.0)
    return AcceptVoiceNote(request, 5, 5, source, UserStyle(output=output))


async def test_the_job_is_saved_with_its_segments_on_the_recordings_clock(world: World) -> None:
    world.files.files["file"] = FakeAudio(30.0, "hello there")
    world.recognizer.segments_of = lambda text: (
        Segment(0.5, 1.5, "hello"),
        Segment(2.0, 31.0, "there"),  # past the end: kept within the recording
    )

    await world.app.bus.handle(send("first"))

    job = world.jobs.rows["first"]
    assert job.segments == (Segment(0.5, 1.5, "hello"), Segment(2.0, 30.0, "there"))
    assert job.recognized.timed and job.recognized.text == "hello there"
    assert job.transcript is not None and "hello there" in job.transcript


async def test_a_cached_answer_keeps_the_segments(world: World) -> None:
    world.files.files["file"] = FakeAudio(30.0, "hello there")
    world.recognizer.segments_of = lambda text: (Segment(1.0, 2.0, text),)
    await world.app.bus.handle(send("first"))

    outcome = await world.app.bus.handle(send("second"))

    assert outcome.acceptance is Acceptance.CACHED
    assert world.jobs.rows["second"].segments == (Segment(1.0, 2.0, "hello there"),)


async def test_a_job_without_segments_reads_as_its_text_untimed(world: World) -> None:
    world.files.files["file"] = FakeAudio(30.0, "hello there")

    await world.app.bus.handle(send("first"))

    job = world.jobs.rows["first"]
    # A recognizer that gives no segments: the recording's one span.
    assert job.segments == (Segment(0.0, 30.0, "hello there"),)
    job.segments = ()  # as a row stored before segments were kept
    assert not job.recognized.timed
    assert job.recognized.text == job.transcript


async def test_subtitles_from_a_recognizer_without_times_come_from_cue_sized_chunks(
    world: World,
) -> None:
    world.files.files["file"] = FakeAudio(50.0, "hello there")  # answered at once

    await world.app.bus.handle(send("first", OutputMode.SRT))

    assert world.recognizer.calls == 4
    assert [(s.start, s.end) for s in world.jobs.rows["first"].segments] == [
        (0.0, 15.0),
        (15.0, 30.0),
        (30.0, 45.0),
        (45.0, 50.0),
    ]


async def test_plain_text_from_it_is_one_request_as_before(world: World) -> None:
    world.files.files["file"] = FakeAudio(50.0, "hello there")

    await world.app.bus.handle(send("first"))

    assert world.recognizer.calls == 1
    assert world.jobs.rows["first"].segments == (Segment(0.0, 50.0, "hello there"),)


async def test_a_transcript_made_for_text_does_not_answer_a_request_for_subtitles(
    world: World,
) -> None:
    world.files.files["file"] = FakeAudio(50.0, "hello there")
    await world.app.bus.handle(send("text"))

    for_subtitles = await world.app.bus.handle(send("srt", OutputMode.SRT))
    then_text = await world.app.bus.handle(send("text again", OutputMode.FILE))
    then_vtt = await world.app.bus.handle(send("vtt", OutputMode.VTT))

    assert for_subtitles.acceptance is Acceptance.PROCESSED
    assert then_text.acceptance is then_vtt.acceptance is Acceptance.CACHED
    assert world.recognizer.calls == 1 + 4
    assert len(world.jobs.rows["vtt"].segments) == 4


async def test_with_a_recognizer_that_gives_times_a_text_transcript_serves_subtitles(
    world: World,
) -> None:
    """Whisper's plain-text transcript has its real times: a later request for subtitles
    is answered from the cache, free, not recognized again."""
    world.recognizer.timed = True
    world.recognizer.segments_of = lambda text: (Segment(0.0, 2.5, text),)
    world.app = bootstrap(
        world.ports(), Tuning(policy=TranscriptionPolicy(format_word_threshold=5))
    )
    world.files.files["file"] = FakeAudio(50.0, "hello there")
    await world.app.bus.handle(send("text"))

    for_subtitles = await world.app.bus.handle(send("srt", OutputMode.SRT))

    assert for_subtitles.acceptance is Acceptance.CACHED
    assert world.recognizer.calls == 1
    assert world.jobs.rows["srt"].segments == (Segment(0.0, 2.5, "hello there"),)
