"""Subtitle cues keep every word once, in order, readable in the time they are shown, and
their SRT and WebVTT renderings parse back through well-kept parsers (``srt``,
``webvtt-py``) to the same cues."""

from __future__ import annotations

import html
import itertools
from datetime import timedelta

import pytest
import srt as srt_parser  # type: ignore[import-untyped]
import webvtt
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.subtitle_files import srt
from domain.subtitle_files import webvtt as render_webvtt
from domain.subtitles import (
    MAX_CUE_SECONDS,
    MAX_LINE_CHARACTERS,
    MAX_LINES,
    MIN_CUE_SECONDS,
    Cue,
    cues,
)
from domain.transcript import Segment, Transcript, UntimedTranscript
from tests.unit.transcript_strategies import (
    plain_words,
    short_or_long_gaps,
    squeeze,
    timed_transcripts,
)

audio_tails = st.one_of(st.none(), st.floats(0.0, 3.0))


def _cues(transcript: Transcript, tail: float | None) -> tuple[Cue, ...]:
    end = transcript.end
    return cues(transcript, None if tail is None or end is None else end + tail)


@settings(deadline=None)
@given(timed_transcripts(), audio_tails)
def test_no_text_is_lost_or_repeated(transcript: Transcript, tail: float | None) -> None:
    made = _cues(transcript, tail)
    assert squeeze("".join(c.text for c in made)) == squeeze(transcript.text)


@settings(deadline=None)
@given(timed_transcripts(plain_words), audio_tails)
def test_every_word_is_kept_whole_and_in_order(transcript: Transcript, tail: float | None) -> None:
    made = _cues(transcript, tail)
    assert [w for c in made for w in c.text.split()] == transcript.text.split()


@settings(deadline=None)
@given(timed_transcripts(), audio_tails)
def test_cues_fit_on_two_lines_of_42_characters(transcript: Transcript, tail: float | None) -> None:
    for cue in _cues(transcript, tail):
        assert 1 <= len(cue.lines) <= MAX_LINES
        for line in cue.lines:
            assert 0 < len(line) <= MAX_LINE_CHARACTERS
            assert line == line.strip()


@settings(deadline=None)
@given(timed_transcripts(), audio_tails)
def test_cues_are_ordered_and_never_overlap(transcript: Transcript, tail: float | None) -> None:
    made = _cues(transcript, tail)
    for cue in made:
        assert 0 <= cue.start_ms < cue.end_ms
    for earlier, later in itertools.pairwise(made):
        assert earlier.end_ms <= later.start_ms


@settings(deadline=None)
@given(timed_transcripts(), audio_tails)
def test_cues_last_1_to_7_seconds_where_the_audio_allows(
    transcript: Transcript, tail: float | None
) -> None:
    audio_end = None if tail is None or transcript.end is None else transcript.end + tail
    made = cues(transcript, audio_end)
    for index, cue in enumerate(made):
        length = cue.end_ms - cue.start_ms
        assert length <= MAX_CUE_SECONDS * 1000
        if length < MIN_CUE_SECONDS * 1000:
            # Only something right after it may cut it short: the next cue, or the audio's end.
            if index + 1 < len(made):
                assert cue.end_ms == made[index + 1].start_ms
            else:
                assert audio_end is not None and cue.end_ms >= round(audio_end * 1000)


@settings(deadline=None)
@given(timed_transcripts(gaps=short_or_long_gaps))
def test_no_cue_spans_a_pause_of_more_than_a_second(transcript: Transcript) -> None:
    made = cues(transcript)
    segments = transcript.segments
    for index in range(1, len(segments)):
        before, after = segments[index - 1], segments[index]
        assert before.end is not None and after.start is not None
        if after.start - before.end <= 1.0:
            continue
        pause_ends = round(after.start * 1000)
        said_before = "".join(s.text for s in segments[:index])
        shown_before = "".join(c.text for c in made if c.start_ms < pause_ends)
        assert squeeze(shown_before) == squeeze(said_before)
        resumed = next((s for s in segments[index:] if s.text.strip()), None)
        if resumed is not None and resumed.start is not None:
            # ... and the speech after the pause is shown from the moment it starts.
            assert round(resumed.start * 1000) in {c.start_ms for c in made}


@settings(max_examples=200, deadline=None)
@given(timed_transcripts(), audio_tails)
def test_srt_parses_back_to_the_same_cues(transcript: Transcript, tail: float | None) -> None:
    made = _cues(transcript, tail)
    parsed = list(srt_parser.parse(srt(made)))
    assert [(s.index, s.start, s.end, s.content) for s in parsed] == [
        (n, timedelta(milliseconds=c.start_ms), timedelta(milliseconds=c.end_ms), c.text)
        for n, c in enumerate(made, start=1)
    ]


def _milliseconds(timestamp: webvtt.models.Timestamp) -> int:
    hours, minutes, seconds, millis = timestamp.to_tuple()
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


@settings(max_examples=200, deadline=None)
@given(timed_transcripts(), audio_tails)
def test_webvtt_parses_back_to_the_same_cues(transcript: Transcript, tail: float | None) -> None:
    made = _cues(transcript, tail)
    parsed = webvtt.from_string(render_webvtt(made))
    assert [
        (_milliseconds(c.start_time), _milliseconds(c.end_time), html.unescape(c.text))
        for c in parsed.captions
    ] == [(c.start_ms, c.end_ms, c.text) for c in made]


def test_an_untimed_transcript_has_no_subtitles() -> None:
    with pytest.raises(UntimedTranscript):
        cues(Transcript.untimed("Said at some time."))


def test_no_speech_makes_no_cues() -> None:
    assert cues(Transcript()) == ()
    assert cues(Transcript((Segment(0, 5, "  "),))) == ()
    assert srt(()) == ""
    assert render_webvtt(()) == "WEBVTT\n"


def test_a_long_segment_is_cut_at_sentences() -> None:
    text = (
        "Hello there, this is a test of the subtitle maker. It should split nicely. "
        "And now a longer sentence, with many words and commas, and a final stop."
    )
    made = cues(Transcript((Segment(0.0, 14.0, text),)))
    assert [c.lines for c in made] == [
        ("Hello there, this is a", "test of the subtitle maker."),
        ("It should split nicely.",),
        ("And now a longer sentence, with many", "words and commas, and a final stop."),
    ]
    assert all(c.end_ms - c.start_ms <= 7000 for c in made)


def test_a_short_word_stays_a_second_when_silence_follows() -> None:
    made = cues(Transcript((Segment(1.0, 1.3, "Yes."), Segment(4.0, 5.5, "No."))))
    assert [(c.start_ms, c.end_ms, c.text) for c in made] == [
        (1000, 2000, "Yes."),
        (4000, 5500, "No."),
    ]


def test_a_pause_longer_than_a_second_starts_a_new_cue() -> None:
    made = cues(Transcript((Segment(0.0, 1.0, "One"), Segment(2.5, 3.5, "two."))))
    assert [c.text for c in made] == ["One", "two."]
    joined = cues(Transcript((Segment(0.0, 1.0, "One"), Segment(1.5, 2.5, "two."))))
    assert [c.text for c in joined] == ["One two."]


def test_the_rendered_files() -> None:
    made = cues(Transcript((Segment(1.0, 2.5, "Fish & <chips>"), Segment(3661.0, 3663.0, "Late."))))
    assert srt(made) == (
        "1\n00:00:01,000 --> 00:00:02,500\nFish & <chips>\n\n"
        "2\n01:01:01,000 --> 01:01:03,000\nLate.\n"
    )
    assert render_webvtt(made) == (
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:02.500\nFish &amp; &lt;chips&gt;\n\n"
        "01:01:01.000 --> 01:01:03.000\nLate.\n"
    )


def test_chinese_is_cut_between_characters_not_before_punctuation() -> None:
    text = "今天天气很好，我们去公园散步吧。然后我们一起吃饭，再回家休息一下。" * 3
    made = cues(Transcript((Segment(0.0, 20.0, text),)))
    assert "".join(c.text.replace("\n", "") for c in made) == text
    for cue in made:
        for line in cue.lines:
            assert line[0] not in "，。"


# Cue times exactly at their edges, where random transcripts seldom land.


def test_speech_from_the_first_millisecond_is_shown_from_it() -> None:
    assert [c.start_ms for c in cues(Transcript((Segment(0.0, 2.0, "Hello."),)))] == [0]


def test_a_short_cue_is_lengthened_only_up_to_the_next_one() -> None:
    full = "Every single word of this long sentence fills both of the lines of the first cue."
    made = cues(Transcript((Segment(1.0, 1.5, full), Segment(1.6, 2.0, "Then."))), 9.0)
    assert [(c.start_ms, c.end_ms) for c in made] == [(1000, 1600), (1600, 2600)]


def test_the_audio_s_end_bounds_only_the_last_cue() -> None:
    transcript = Transcript(
        (Segment(1.0, 1.3, "One."), Segment(3.0, 3.3, "Two."), Segment(5.0, 5.3, "Three."))
    )
    made = cues(transcript, 5.5)
    assert [(c.start_ms, c.end_ms) for c in made] == [(1000, 2000), (3000, 4000), (5000, 5500)]


def test_speech_with_no_time_left_at_the_audio_s_end_is_shown_for_a_millisecond() -> None:
    made = cues(Transcript((Segment(5.0, 5.0, "Bye."),)), 5.0)
    assert [(c.start_ms, c.end_ms) for c in made] == [(5000, 5001)]


@pytest.mark.parametrize(("pause", "cue_count"), [(1.0, 1), (1.001, 2)])
def test_a_pause_of_exactly_a_second_still_joins(pause: float, cue_count: int) -> None:
    made = cues(Transcript((Segment(0.0, 1.0, "One"), Segment(1.0 + pause, 2.5, "two."))))
    assert len(made) == cue_count


def test_a_cue_ends_where_a_segment_does_when_that_keeps_half_of_it() -> None:
    transcript = Transcript(
        (
            Segment(0.0, 3.0, "we went all the way down to the river and then we"),
            Segment(3.0, 6.0, "sat on the bank for a while watching the boats go by"),
        )
    )
    assert [(c.start_ms, c.end_ms, c.lines) for c in cues(transcript)] == [
        (0, 3000, ("we went all the way down", "to the river and then we")),
        (3000, 6000, ("sat on the bank for a while", "watching the boats go by")),
    ]


def test_a_cue_ends_after_a_clause_and_quotes_stay_with_their_words() -> None:
    said = "«Well», she said, «we could go (if you like) to the old town, or stay here and rest»; "
    made = cues(Transcript((Segment(0.0, 6.0, said + "nobody answered."),)))
    assert [(c.start_ms, c.end_ms, c.lines) for c in made] == [
        (0, 3612, ("«Well», she said, «we could go", "(if you like) to the old town,")),
        (3612, 6000, ("or stay here and rest»; nobody answered.",)),
    ]


@pytest.mark.parametrize(
    ("said", "lines"),
    [
        # A clause's end is worth a less even pair of lines ...
        (
            "When we arrive there, we will call you from the station",
            ("When we arrive there,", "we will call you from the station"),
        ),
        # ... but not a lopsided one: then the most even split, the longer line below.
        (
            "Tomorrow we will all be there at eight tonight, maybe",
            ("Tomorrow we will all be", "there at eight tonight, maybe"),
        ),
    ],
)
def test_two_lines_split_evenly_or_after_a_clause(said: str, lines: tuple[str, str]) -> None:
    assert [c.lines for c in cues(Transcript((Segment(0.0, 4.0, said),)))] == [lines]
