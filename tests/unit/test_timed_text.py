"""Timestamped text: paragraphs that together are exactly the plain text, each opening
with the (never later) moment its first segment starts."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings

from domain.timed_text import stamp, timestamped_text
from domain.transcript import Segment, Transcript, UntimedTranscript, join_pieces
from tests.unit.transcript_strategies import timed_transcripts

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
