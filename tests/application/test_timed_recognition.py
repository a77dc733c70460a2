"""ChunkedRecognition keeps time: each chunk's segments land on the recording's clock
(shifted by the chunk's start), a recognizer without times gets one segment spanning its
chunk, and nothing lies past the recording's end. When times are wanted, a recognizer
without times is sent cue-sized chunks (5-15 s) in parallel; otherwise nothing changes."""

from __future__ import annotations

import itertools

import pytest

from application.recognition import ChunkedRecognition
from domain.cue_chunks import CUE_CHUNK_MAX_SECONDS, CUE_CHUNK_MIN_SECONDS
from domain.transcript import Segment
from tests.application.in_memory import FakeAudio, FakeFileSource, FakeRecognizer
from tests.application.test_chunk_pipeline import SlowConverter, SlowRecognizer

DURATION = 1000.0
MAX_CHUNK = 100.0


def world(duration: float = DURATION) -> tuple[SlowConverter, FakeRecognizer, ChunkedRecognition]:
    files = FakeFileSource()
    files.files["long"] = FakeAudio(duration)
    converter, recognizer = SlowConverter(files, seconds=0.0), FakeRecognizer(MAX_CHUNK)
    recognition = ChunkedRecognition(
        converter,
        recognizer,
        short_audio_seconds=10,
        max_chunk_seconds=MAX_CHUNK,
        concurrency=3,
        conversion_concurrency=2,
    )
    return converter, recognizer, recognition


async def test_each_chunks_segments_are_shifted_by_the_chunks_start() -> None:
    converter, recognizer, recognition = world()
    # Whisper-like: two phrases timed from the start of the chunk given.
    recognizer.segments_of = lambda text: (
        Segment(1.0, 2.5, f"{text}a"),
        Segment(3.0, 4.0, f"{text}b"),
    )

    result = await recognition.recognize(b"long", DURATION, "en")

    spans = [span for _, span in converter.conversions]
    assert len(spans) > 5
    expected = []
    for span in spans:
        assert span is not None
        expected += [
            (span.start + 1.0, span.start + 2.5),
            (span.start + 3.0, span.start + 4.0),
        ]
    got = [(s.start, s.end) for s in result.segments]
    assert got == [(pytest.approx(a), pytest.approx(b)) for a, b in expected]
    starts = [s.start or 0.0 for s in result.segments]
    assert starts == sorted(starts)


async def test_an_untimed_answer_spans_its_chunk() -> None:
    converter, recognizer, recognition = world()
    recognizer.segments_of = lambda text: (Segment(None, None, text),)  # qwen3-asr-flash

    result = await recognition.recognize(b"long", DURATION, "en")

    spans = [span for _, span in converter.conversions]
    assert [(s.start, s.end) for s in result.segments] == [
        (span.start, span.end) for span in spans if span is not None
    ]
    assert all(a.end == b.start for a, b in itertools.pairwise(result.segments))
    assert result.segments[-1].end == DURATION
    assert " ".join(s.text for s in result.segments) == result.text


async def test_one_request_is_kept_within_the_recording() -> None:
    _, recognizer, recognition = world(8.0)
    recognizer.segments_of = lambda text: (Segment(0.5, 3.0, "hello"), Segment(3.5, 9.7, text))

    result = await recognition.recognize(b"long", 8.0, "en")

    assert [(s.start, s.end) for s in result.segments] == [(0.5, 3.0), (3.5, 8.0)]


async def test_a_recognizer_without_segments_gives_the_recording_one_untimed_span() -> None:
    _, _, recognition = world(8.0)

    result = await recognition.recognize(b"long", 8.0, "en")

    assert result.segments == (Segment(0.0, 8.0, result.text),)


def cue_world(
    duration: float = 300.0,
) -> tuple[SlowConverter, SlowRecognizer, ChunkedRecognition]:
    files = FakeFileSource()
    files.files["long"] = FakeAudio(duration)
    converter, recognizer = SlowConverter(files, seconds=0.0), SlowRecognizer(seconds=0.02)
    recognition = ChunkedRecognition(
        converter,
        recognizer,
        short_audio_seconds=10,
        max_chunk_seconds=MAX_CHUNK,
        concurrency=3,
        conversion_concurrency=2,
    )
    return converter, recognizer, recognition


async def test_times_wanted_of_a_recognizer_without_times_send_cue_sized_chunks() -> None:
    converter, recognizer, recognition = cue_world()
    recognizer.segments_of = lambda text: (Segment(None, None, text),)  # qwen3-asr-flash

    result = await recognition.recognize(b"long", 300.0, "en", times_wanted=True)

    spans = [span for _, span in converter.conversions]
    assert all(span is not None for span in spans)
    assert len(spans) == recognizer.calls > 20
    assert all(
        CUE_CHUNK_MIN_SECONDS <= span.length <= CUE_CHUNK_MAX_SECONDS
        for span in spans
        if span is not None
    )
    assert [(s.start, s.end) for s in result.segments] == [
        (span.start, span.end) for span in spans if span is not None
    ], "each chunk is one segment, on the recording's clock"
    assert " ".join(s.text for s in result.segments) == result.text
    assert 1 < recognizer.gauge.peak <= 3, "in parallel, within the concurrency"


async def test_a_short_recording_is_one_request_even_when_times_are_wanted() -> None:
    converter, recognizer, recognition = cue_world(2 * CUE_CHUNK_MIN_SECONDS)

    result = await recognition.recognize(b"long", 10.0, "en", times_wanted=True)

    assert recognizer.calls == 1 and converter.conversions[0][1] is None
    assert result.segments == (Segment(0.0, 10.0, result.text),)


@pytest.mark.parametrize(
    ("times_wanted", "gives_times"), [(False, False), (True, True), (False, True)]
)
async def test_otherwise_the_recording_is_cut_as_for_plain_text(
    times_wanted: bool, gives_times: bool
) -> None:
    converter, recognizer, recognition = cue_world()
    recognizer.timed = gives_times

    await recognition.recognize(b"long", 300.0, "en", times_wanted=times_wanted)

    lengths = [span.length for _, span in converter.conversions if span is not None]
    assert len(lengths) == recognizer.calls == 4
    assert max(lengths) > CUE_CHUNK_MAX_SECONDS
