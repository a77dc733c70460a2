"""One contract for every SpeechRecognizer: fed audio converted the way it asks for, it
returns the words; fed audio it cannot take, it fails only as RecognitionFailed. Its
segments are ordered, lie within the audio and join to its text, timed exactly when it says
it gives times; and so are the recording's, chunked for times wanted (cue-sized chunks for
a recognizer without times)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import ExitStack

import pytest

from application.errors import RecognitionFailed
from application.ports import Recognition, SpeechRecognizer
from application.recognition import ChunkedRecognition
from domain.policies import AudioEncoding, AudioProfile, select_profile
from infrastructure.audio import PyAvConverter
from infrastructure.dashscope import DashScopeRecognizer
from infrastructure.retrying import RetryPolicy
from infrastructure.whisper import WhisperRecognizer
from tests.fakes.dashscope_server import FakeDashScope
from tests.media_clips import SAMPLES, long_voice_note
from tests.word_error_rate import word_error_rate

EXPECTED = (SAMPLES / "en-weather.txt").read_text()
TIMED_RECORDING_SECONDS = 30.0  # the sample said three times: more than one cue-sized chunk


def whisper(stack: ExitStack, tmp_path) -> SpeechRecognizer:  # type: ignore[no-untyped-def]
    return WhisperRecognizer(models_dir=tmp_path / "models")


def dashscope(stack: ExitStack, tmp_path) -> SpeechRecognizer:  # type: ignore[no-untyped-def]
    fake = stack.enter_context(FakeDashScope(transcript=lambda request: EXPECTED))
    return DashScopeRecognizer(fake.api_key, fake.base_url, retry=RetryPolicy(attempts=1))


@pytest.fixture(
    params=[pytest.param(whisper, marks=pytest.mark.slow), dashscope], ids=["whisper", "dashscope"]
)
async def recognizer(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[SpeechRecognizer]:  # type: ignore[no-untyped-def]
    with ExitStack() as stack:
        adapter = request.param(stack, tmp_path)
        yield adapter
        if isinstance(adapter, DashScopeRecognizer):
            await adapter.close()


async def test_recognizes_audio_converted_as_it_asks(recognizer: SpeechRecognizer) -> None:
    voice_note = (SAMPLES / "en-weather.ogg").read_bytes()
    profile = select_profile(9.6, recognizer.encoding)
    audio = await PyAvConverter().convert(voice_note, profile)

    heard = await recognizer.recognize(audio, profile, "en")

    assert word_error_rate(EXPECTED, heard.text) <= 0.25
    assert recognizer.max_chunk_seconds is None or recognizer.max_chunk_seconds >= 60


async def test_audio_it_cannot_take_fails_as_recognition_failed(
    recognizer: SpeechRecognizer,
) -> None:
    wrong = (
        AudioProfile(AudioEncoding.PCM_S16LE, 44_100, None)
        if recognizer.encoding is AudioEncoding.PCM_S16LE
        else AudioProfile(AudioEncoding.PCM_S16LE, 16_000, None)
    )
    with pytest.raises(RecognitionFailed):
        await recognizer.recognize(b"\x00\x01" * 8000, wrong, None)


async def test_segments_are_ordered_within_the_audio_and_join_to_the_text(
    recognizer: SpeechRecognizer,
) -> None:
    voice_note = (SAMPLES / "en-weather.ogg").read_bytes()
    converter = PyAvConverter()
    duration = (await converter.probe(voice_note)).duration_seconds
    profile = select_profile(duration, recognizer.encoding)
    audio = await converter.convert(voice_note, profile)

    heard = await recognizer.recognize(audio, profile, "en")

    assert_well_formed(heard, duration)
    timed = [s for s in heard.segments if s.timed]
    if recognizer.gives_times:
        assert len(timed) == len(heard.segments), "it says it gives times"
    else:
        assert heard.segments == (heard.segments[0],) and not timed, "one untimed segment"


async def test_a_recording_chunked_for_times_has_ordered_segments_joined_to_its_text(
    recognizer: SpeechRecognizer,
) -> None:
    recording = long_voice_note(TIMED_RECORDING_SECONDS)
    converter = PyAvConverter()
    duration = (await converter.probe(recording)).duration_seconds
    chunked = ChunkedRecognition(
        converter, recognizer, short_audio_seconds=10, max_chunk_seconds=150, concurrency=2
    )

    heard = await chunked.recognize(recording, duration, "en", times_wanted=True)

    assert_well_formed(heard, duration)
    assert all(s.timed for s in heard.segments), "on the recording's clock"
    assert len(heard.segments) > 1, "more than one segment for subtitles of 30 s"
    assert heard.segments[-1].end == pytest.approx(duration, abs=1.0), "up to its end"


def assert_well_formed(heard: Recognition, duration: float) -> None:
    """Speech comes with segments that join to its text, all timed or none, the timed
    ones ordered and within the audio's ``duration``."""
    assert heard.segments, "speech comes with its segments"
    assert _words(" ".join(s.text for s in heard.segments)) == _words(heard.text)
    timed = [s for s in heard.segments if s.timed]
    assert len(timed) in (0, len(heard.segments)), "all timed or none"
    for before, after in itertools.pairwise(timed):
        assert before.start is not None and after.start is not None
        assert before.start <= after.start, heard.segments
    for segment in timed:
        assert segment.start is not None and segment.end is not None
        assert 0 <= segment.start <= segment.end <= duration, (segment, duration)


def _words(text: str) -> list[str]:
    """The text with its whitespace normalized."""
    return text.split()
