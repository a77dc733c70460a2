"""The transcript model: its plain text is what users got before segments existed, and the
stored form reads back to the same transcript (old rows as one segment without times)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.transcript import Segment, Transcript, concatenate, placed
from domain.transcript_records import (
    UnreadableTranscriptRecord,
    transcript_from_json,
    transcript_from_record,
    transcript_to_json,
    transcript_to_record,
)
from tests.unit.transcript_strategies import (
    plain_words,
    segment_texts,
    timed_transcripts,
    words,
)


@settings(deadline=None)
@given(segment_texts(words), st.floats(0, 100), st.floats(0, 100))
def test_one_segment_reads_as_the_recognizer_text_trimmed(
    text: str, start: float, length: float
) -> None:
    # What users got before: the recognizer's text, stripped (ChunkedRecognition's strip).
    assert Transcript((Segment(start, start + length, text),)).text == text.strip()
    assert Transcript.untimed(text).text == text.strip()


@settings(deadline=None)
@given(st.lists(st.lists(plain_words, min_size=1, max_size=8), max_size=10))
def test_whisper_segments_read_as_they_were_joined_before(segment_words: list[list[str]]) -> None:
    # faster-whisper's segments start with a space; the recognizer joined them with "".
    texts = [" " + " ".join(ws) for ws in segment_words]
    transcript = Transcript(tuple(Segment(i, i + 1.0, t) for i, t in enumerate(texts)))
    assert transcript.text == "".join(texts).strip()


@settings(deadline=None)
@given(st.lists(segment_texts(plain_words), max_size=10))
def test_chunks_read_as_they_were_joined_before(texts: list[str]) -> None:
    # ChunkedRecognition joined its chunks' stripped texts with one space.
    chunks = [Transcript.untimed(t) for t in texts]
    assert concatenate(chunks).text == " ".join(p for t in texts if (p := t.strip()))


def test_scripts_without_spaces_are_joined_without_one() -> None:
    transcript = Transcript(
        (Segment(0, 1, "今天天气很好。"), Segment(1, 2, "我们去公园吧。"), Segment(2, 3, "OK."))
    )
    assert transcript.text == "今天天气很好。我们去公园吧。OK."


@settings(deadline=None)
@given(timed_transcripts(), st.floats(0, 10_000))
def test_shifting_moves_every_time_and_keeps_the_text(
    transcript: Transcript, offset: float
) -> None:
    shifted = transcript.shifted(offset)
    assert shifted.text == transcript.text
    for before, after in zip(transcript.segments, shifted.segments, strict=True):
        assert before.start is not None and after.start is not None
        assert math.isclose(after.start, before.start + offset)


@settings(deadline=None)
@given(timed_transcripts(), st.floats(0, 10_000), st.floats(0, 600))
def test_a_chunk_is_placed_inside_its_span(chunk: Transcript, start: float, length: float) -> None:
    # Whisper's segments are timed from the chunk's start and may run past its end.
    placed_chunk = placed(chunk, start, start + length)
    assert placed_chunk.text == chunk.text
    for segment in placed_chunk.segments:
        assert segment.start is not None and segment.end is not None
        assert start <= segment.start <= segment.end <= start + length


def test_an_untimed_chunk_spans_its_chunk() -> None:
    # qwen3-asr-flash gives no times: the chunk's span is the best known.
    chunk = placed(Transcript.untimed(" Hello there. "), 150.0, 162.5)
    assert chunk.segments == (Segment(150.0, 162.5, "Hello there."),)
    assert placed(Transcript.untimed(""), 0.0, 1.0) == Transcript()
    whole = concatenate([chunk, placed(Transcript.untimed("Bye."), 162.5, 170.0)])
    assert whole.text == "Hello there. Bye." and whole.timed


def test_a_transcript_is_timed_throughout_or_not_at_all() -> None:
    with pytest.raises(ValueError):
        Transcript((Segment(0, 1, "a"), Segment(None, None, "b")))
    with pytest.raises(ValueError):
        Segment(2, 1, "backwards")
    with pytest.raises(ValueError):
        Segment(0, None, "half")
    with pytest.raises(ValueError):
        Segment(-1, 1, "before the recording")
    assert Transcript().timed and not Transcript.untimed("x").timed
    assert Transcript.untimed("  ").segments == ()


def _in_milliseconds(transcript: Transcript) -> Transcript:
    return Transcript(
        tuple(
            Segment(
                None if s.start is None else round(s.start, 3),
                None if s.end is None else round(s.end, 3),
                s.text,
                s.speaker,
            )
            for s in transcript.segments
        )
    )


@settings(deadline=None)
@given(timed_transcripts(), st.sampled_from(["", "A", "Speaker 2"]))
def test_the_stored_form_reads_back_to_the_millisecond(
    transcript: Transcript, speaker: str
) -> None:
    transcript = Transcript(
        tuple(Segment(s.start, s.end, s.text, speaker) for s in transcript.segments)
    )
    record = transcript_to_record(transcript)
    assert json.loads(json.dumps(record)) == record
    assert transcript_from_record(record) == _in_milliseconds(transcript)
    assert transcript_from_json(transcript_to_json(transcript)) == _in_milliseconds(transcript)


@settings(deadline=None)
@given(segment_texts())
def test_untimed_transcripts_are_stored_without_times(text: str) -> None:
    transcript = Transcript.untimed(text)
    assert transcript_from_json(transcript_to_json(transcript)) == transcript


def test_an_old_row_reads_back_as_one_segment_without_times() -> None:
    old = transcript_from_json(None, "Hello there.")
    assert old.segments == (Segment(None, None, "Hello there."),)
    assert not old.timed and old.text == "Hello there."
    assert transcript_from_record({"text": "Hello there."}) == old
    assert transcript_from_json("", "Hello there.") == old
    assert transcript_from_json(None, "").segments == ()


def test_the_stored_form_is_small_and_readable() -> None:
    transcript = Transcript((Segment(0.0, 2.4801, "Привет."), Segment(2.5, 3.0, "Hi", "B")))
    assert transcript_to_json(transcript) == (
        '{"version":1,"segments":[{"start":0.0,"end":2.48,"text":"Привет."},'
        '{"start":2.5,"end":3.0,"text":"Hi","speaker":"B"}]}'
    )


@pytest.mark.parametrize(
    "data",
    [
        "not json",
        "[]",
        '{"version":2,"segments":[]}',
        '{"segments":{"start":1}}',
        '{"segments":[{"start":1,"text":"half"}]}',
        '{"segments":[{"start":"1","end":2,"text":"x"}]}',
        '{"segments":[{"start":2,"end":1,"text":"x"}]}',
        '{"segments":[{"start":0,"end":1,"text":7}]}',
        '{"segments":[{"start":0,"end":1,"text":"a"},{"text":"b"}]}',
        '{"segments":[{"start":NaN,"end":1,"text":"x"}]}',
        '{"text":5}',
    ],
)
def test_unreadable_records_are_refused_with_one_error(data: str) -> None:
    with pytest.raises(UnreadableTranscriptRecord):
        transcript_from_json(data)
