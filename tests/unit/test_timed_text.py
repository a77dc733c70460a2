"""Timestamped text: paragraphs that together are exactly the plain text, each opening
with the (never later) moment its first segment starts."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.timed_text import (
    PARAGRAPH_CHARACTERS,
    PARAGRAPH_PAUSE_SECONDS,
    stamp,
    timestamped_text,
)
from domain.transcript import Segment, Transcript, UntimedTranscript, join_pieces
from tests.unit.transcript_strategies import plain_words, timed_transcripts

_PARAGRAPH = re.compile(r"\[((?:\d+:)?\d{2}:\d{2})\] (.+)", re.DOTALL)


def _seconds(clock: str) -> int:
    total = 0
    for part in clock.split(":"):
        total = total * 60 + int(part)
    return total


@settings(deadline=None)
@given(timed_transcripts())
def test_paragraphs_are_the_plain_text_with_ordered_stamps(transcript: Transcript) -> None:
    rendered = timestamped_text(transcript)
    if not transcript.text:
        assert rendered == ""
        return
    matches = [_PARAGRAPH.fullmatch(p) for p in rendered.split("\n\n")]
    assert all(matches)
    clocks = [m.group(1) for m in matches if m]
    assert join_pieces(m.group(2) for m in matches if m) == transcript.text
    seconds = [_seconds(c) for c in clocks]
    assert seconds == sorted(seconds)
    assert len({c.count(":") for c in clocks}) == 1  # one format throughout
    first = next(s for s in transcript.segments if s.text.strip())
    assert first.start is not None and seconds[0] == int(first.start)


def test_pauses_and_long_stretches_start_paragraphs() -> None:
    transcript = Transcript(
        (
            Segment(0.0, 4.0, " Good morning."),
            Segment(4.2, 8.0, " Today: transcripts."),
            Segment(11.0, 15.0, " After a pause."),
            *(Segment(15.0 + 10 * i, 25.0 + 10 * i, f" Point {i}.") for i in range(8)),
        )
    )
    assert timestamped_text(transcript) == (
        "[00:00] Good morning. Today: transcripts.\n\n"
        "[00:11] After a pause. Point 0. Point 1. Point 2. Point 3. Point 4. Point 5.\n\n"
        "[01:15] Point 6. Point 7."
    )


def test_an_hour_long_recording_gets_hours_everywhere() -> None:
    transcript = Transcript((Segment(5.0, 6.0, "Start."), Segment(3725.9, 3727.0, "End.")))
    assert timestamped_text(transcript) == "[0:00:05] Start.\n\n[1:02:05] End."


def test_stamps() -> None:
    assert stamp(0) == "00:00"
    assert stamp(59.999) == "00:59"
    assert stamp(3599.9) == "59:59"
    assert stamp(3600) == "1:00:00"
    assert stamp(61, with_hours=True) == "0:01:01"
    assert stamp(36_000) == "10:00:00"


def test_an_untimed_transcript_has_no_timestamped_text() -> None:
    with pytest.raises(UntimedTranscript):
        timestamped_text(Transcript.untimed("When was this said?"))


@given(st.floats(0.0, 400_000.0, allow_nan=False), st.booleans())
def test_a_stamp_reads_back_as_the_second_the_moment_falls_in(seconds: float, hours: bool) -> None:
    clock = stamp(seconds, with_hours=hours)
    assert _seconds(clock) == int(seconds)
    *rest, minutes, secs = clock.split(":")
    assert len(minutes) == len(secs) == 2 and int(minutes) < 60 and int(secs) < 60
    # Hours are written exactly when asked for or when there are some.
    assert bool(rest) == (hours or seconds >= 3600)


# Pauses clearly on one side of the 2 s paragraph rule.
_pauses = st.one_of(st.floats(0.0, 1.9), st.floats(2.0, 6.0))


@settings(deadline=None)
@given(timed_transcripts(plain_words, gaps=_pauses, max_segments=20))
def test_speech_after_a_pause_starts_a_paragraph_and_no_paragraph_runs_on(
    transcript: Transcript,
) -> None:
    rendered = timestamped_text(transcript)
    spoken = [s for s in transcript.segments if s.text.strip()]
    paragraphs = [_PARAGRAPH.fullmatch(p) for p in rendered.split("\n\n")] if spoken else []
    stamps = [_seconds(m.group(1)) for m in paragraphs if m]
    pauses = 0
    for before, after in itertools.pairwise(spoken):
        assert before.end is not None and after.start is not None
        if after.start - before.end >= PARAGRAPH_PAUSE_SECONDS:
            # Whoever reads the stamp finds the speech that resumed after the pause.
            pauses += 1
            assert int(after.start) in stamps
    assert len(stamps) >= pauses + (1 if spoken else 0)
    for match in paragraphs:
        # A paragraph ends at twice the long length at the latest (plus the segment that
        # crossed it, at most ``segment_texts``' 30 words).
        assert match and len(match.group(2)) < 2 * PARAGRAPH_CHARACTERS + 30 * 14


# The paragraph rules exactly at their edges, where random transcripts seldom land.


def _stamps(*segments: Segment) -> list[str]:
    """The stamps of the paragraphs the segments make, in order."""
    rendered = timestamped_text(Transcript(segments))
    return re.findall(r"^\[([\d:]+)\]", rendered, re.MULTILINE)


@pytest.mark.parametrize(("pause", "paragraphs"), [(1.99, 1), (2.0, 2)])
def test_a_pause_of_two_seconds_opens_a_paragraph(pause: float, paragraphs: int) -> None:
    assert len(_stamps(Segment(0.0, 3.0, "One."), Segment(3.0 + pause, 8.0, "Two."))) == paragraphs


@pytest.mark.parametrize(
    ("start", "ends_sentence", "paragraphs"),
    [
        (59.9, True, 1),
        (60.0, True, 2),  # a minute long: ends after a sentence
        (119.9, False, 1),
        (120.0, False, 2),  # two minutes long: ends anyway
    ],
)
def test_a_paragraph_ends_after_a_minute_at_a_sentence_or_after_two_anyway(
    start: float, ends_sentence: bool, paragraphs: int
) -> None:
    first = "First." if ends_sentence else "first"
    assert len(_stamps(Segment(0.0, start, first), Segment(start, start + 1, "next"))) == paragraphs


@pytest.mark.parametrize(
    ("texts", "paragraphs"),
    [
        (["x" * 497 + "."], 1),  # 498 characters and a space: 499
        (["x" * 498 + "."], 2),  # 500: long, and it ends a sentence
        (["x" * 248 + ".", "y" * 248 + "."], 2),  # two segments count together
        (["x" * 998], 1),
        (["x" * 999], 2),  # 1,000: too long even without a sentence's end
    ],
)
def test_a_paragraph_ends_after_500_characters_at_a_sentence_or_after_1000_anyway(
    texts: list[str], paragraphs: int
) -> None:
    segments = [Segment(float(n), n + 1.0, text) for n, text in enumerate(texts)]
    after = len(texts)
    assert len(_stamps(*segments, Segment(after, after + 1.0, "next"))) == paragraphs
    # A paragraph after a pause counts its characters afresh.
    later = [Segment(n + 10.0, n + 11.0, text) for n, text in enumerate(texts)]
    stamps = _stamps(Segment(0.0, 1.0, "Intro."), *later, Segment(after + 10, after + 11, "next"))
    assert len(stamps) == 1 + paragraphs


@pytest.mark.parametrize(
    ("late", "stamps"),
    [(3599.9, ["00:00", "59:59"]), (3600.0, ["0:00:00", "1:00:00"])],
)
def test_hours_are_written_throughout_from_the_first_hour_on(
    late: float, stamps: list[str]
) -> None:
    assert _stamps(Segment(0.0, 1.0, "Early."), Segment(late, late + 1, "Late.")) == stamps
