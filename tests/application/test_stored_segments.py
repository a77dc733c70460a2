"""A processed job keeps the recognizer's timed segments with its text (subtitles are made
from them later without recognizing again), and a cached answer keeps them too."""

from __future__ import annotations

from application.commands import AcceptVoiceNote
from application.reports import Acceptance
from domain.jobs import AudioSource, MediaKind, UserStyle
from domain.transcript import Segment
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio


def send(request: str) -> AcceptVoiceNote:
    source = AudioSource(MediaKind.VOICE, "file", "same-unique-id", 30.0)
    return AcceptVoiceNote(request, 5, 5, source, UserStyle())


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
