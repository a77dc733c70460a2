"""What an answer is made of in each output mode (``domain.outputs``)."""

from __future__ import annotations

import html
import re

import srt as srt_library  # type: ignore[import-untyped]
import webvtt
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.jobs import AudioSource, MediaKind, OutputMode, UserStyle, VoiceJob
from domain.outputs import LONG_RECORDING_SECONDS, Answer, answer, offers_stored_outputs
from domain.text import apply_yo_policy
from domain.transcript import Segment, Transcript
from tests.unit.transcript_strategies import segment_texts, squeeze, timed_transcripts

TIMED = Transcript((Segment(0.0, 3.0, "Ёлки зелёные."), Segment(65.0, 68.0, "Second one.")))


def test_text_and_file_are_the_formatted_text() -> None:
    for mode in (OutputMode.MESSAGES, OutputMode.FILE):
        assert answer(mode, "Formatted.", TIMED, 70.0, use_yo=True).text == "Formatted."


def test_timed_text_comes_from_the_segments_with_the_yo_policy() -> None:
    shaped = answer(OutputMode.TIMED, "ignored", TIMED, 70.0, use_yo=False)
    assert shaped.text == "[00:00] Елки зеленые.\n\n[01:05] Second one."
    assert shaped.subtitles is None


def test_subtitles_parse_back_in_order_and_keep_the_text_for_the_preview() -> None:
    shaped = answer(OutputMode.SRT, "Formatted.", TIMED, 70.0, use_yo=True)
    assert (shaped.text, shaped.extension) == ("Formatted.", "srt")
    assert shaped.subtitles is not None
    parsed = list(srt_library.parse(shaped.subtitles))
    assert [c.content for c in parsed] == ["Ёлки зелёные.", "Second one."]
    assert parsed[0].start < parsed[1].start
    vtt = answer(OutputMode.VTT, "Formatted.", TIMED, 70.0, use_yo=True)
    assert vtt.extension == "vtt" and (vtt.subtitles or "").startswith("WEBVTT")


def test_a_transcript_without_times_falls_back_to_its_text() -> None:
    untimed = Transcript.untimed("Old job.")
    for mode in (OutputMode.TIMED, OutputMode.SRT, OutputMode.VTT):
        assert answer(mode, "Old job.", untimed, 5.0, use_yo=True).subtitles is None
        assert answer(mode, "Old job.", untimed, 5.0, use_yo=True).text == "Old job."


def job(seconds: float, output: OutputMode, segments: tuple[Segment, ...]) -> VoiceJob:
    source = AudioSource(MediaKind.VOICE, "f", "u")
    style = UserStyle(output=output)
    return VoiceJob("j", 1, 1, source, seconds, 10, style, 0.0, 0.0, segments=segments)


def test_only_a_long_recording_answered_as_text_with_times_offers_its_other_outputs() -> None:
    timed = TIMED.segments
    assert offers_stored_outputs(job(LONG_RECORDING_SECONDS, OutputMode.MESSAGES, timed))
    assert not offers_stored_outputs(job(LONG_RECORDING_SECONDS - 1, OutputMode.MESSAGES, timed))
    assert not offers_stored_outputs(job(LONG_RECORDING_SECONDS, OutputMode.FILE, timed))
    assert not offers_stored_outputs(job(LONG_RECORDING_SECONDS, OutputMode.SRT, timed))
    assert not offers_stored_outputs(job(LONG_RECORDING_SECONDS, OutputMode.MESSAGES, ()))


# Properties: whatever the mode, transcript and duration, what is sent.

any_transcripts = st.one_of(
    timed_transcripts(max_segments=6),
    st.builds(Transcript.untimed, segment_texts()),
)
# The audio's length: unknown, or a little past the end of the speech.
audio_tails = st.one_of(st.none(), st.floats(0.0, 3.0))
_STAMP = re.compile(r"\[(?:\d+:)?\d{2}:\d{2}\] ")


def _spoken(transcript: Transcript, use_yo: bool) -> str:
    return squeeze(apply_yo_policy(transcript.text, use_yo))


@settings(deadline=None)
@given(st.sampled_from(OutputMode), st.text(), any_transcripts, audio_tails, st.booleans())
def test_every_mode_sends_the_words_of_the_transcript_or_the_text(
    mode: OutputMode,
    text: str,
    transcript: Transcript,
    tail: float | None,
    use_yo: bool,
) -> None:
    duration = None if tail is None or transcript.end is None else transcript.end + tail
    shaped = answer(mode, text, transcript, duration, use_yo=use_yo)
    timed_mode = mode in (OutputMode.TIMED, OutputMode.SRT, OutputMode.VTT)
    if not timed_mode or not transcript.segments or not transcript.timed:
        # Plain modes, and any mode without times: the formatted text, as it was.
        assert shaped == Answer(text)
        return
    if mode is OutputMode.TIMED:
        assert (shaped.subtitles, shaped.extension) == (None, None)
        assert squeeze(_STAMP.sub("", shaped.text)) == _spoken(transcript, use_yo)
        assert use_yo or not set("ёЁ") & set(shaped.text)
        return
    # Subtitles: the formatted text stays for the preview; the file holds every word.
    assert shaped.text == text
    assert shaped.extension == mode.value
    assert shaped.subtitles is not None
    assert use_yo or not set("ёЁ") & set(shaped.subtitles)
    starts, ends, said = _parsed(mode, shaped.subtitles)
    assert squeeze(said) == _spoken(transcript, use_yo)
    assert starts == sorted(starts) and all(s < e for s, e in zip(starts, ends, strict=True))


def _parsed(mode: OutputMode, subtitles: str) -> tuple[list[int], list[int], str]:
    """The cues' starts and ends (ms) and their text, read back by the ``srt`` and
    ``webvtt-py`` libraries."""
    if mode is OutputMode.SRT:
        parsed = list(srt_library.parse(subtitles))
        return (
            [round(c.start.total_seconds() * 1000) for c in parsed],
            [round(c.end.total_seconds() * 1000) for c in parsed],
            "".join(c.content for c in parsed),
        )
    captions = webvtt.from_string(subtitles).captions
    return (
        [_milliseconds(c.start_time) for c in captions],
        [_milliseconds(c.end_time) for c in captions],
        "".join(html.unescape(c.text) for c in captions),
    )


def _milliseconds(timestamp: webvtt.models.Timestamp) -> int:
    hours, minutes, seconds, millis = timestamp.to_tuple()
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


@settings(deadline=None)
@given(
    st.sampled_from([OutputMode.SRT, OutputMode.VTT]),
    timed_transcripts(max_segments=4),
    st.floats(0.0, 3.0),
)
def test_subtitles_end_with_the_audio(
    mode: OutputMode, transcript: Transcript, tail: float
) -> None:
    """A short last cue is lengthened towards 1 s only into the audio that is left: the
    subtitles never outlast the recording (a cue starting at its very end lasts 1 ms)."""
    if transcript.end is None:
        return
    duration = transcript.end + tail
    shaped = answer(mode, "text", transcript, duration, use_yo=True)
    if shaped.subtitles is None:
        return
    starts, ends, _ = _parsed(mode, shaped.subtitles)
    if starts:
        assert ends[-1] <= max(round(duration * 1000), starts[-1] + 1)


@given(
    st.sampled_from(OutputMode),
    st.floats(0.0, 4 * LONG_RECORDING_SECONDS),
    st.floats(0.0, LONG_RECORDING_SECONDS),
    st.one_of(timed_transcripts(max_segments=3), st.builds(Transcript.untimed, st.text())),
)
def test_stored_outputs_are_offered_for_long_plain_text_answers_with_times(
    mode: OutputMode, seconds: float, more: float, transcript: Transcript
) -> None:
    offered = offers_stored_outputs(job(seconds, mode, transcript.segments))
    has_times = bool(transcript.segments) and transcript.timed
    # Exactly the recordings from 10 minutes on, answered as plain messages, with times...
    assert offered == (
        mode is OutputMode.MESSAGES and seconds >= LONG_RECORDING_SECONDS and has_times
    )
    # ... so a longer recording is offered them whenever a shorter one is.
    if offered:
        assert offers_stored_outputs(job(seconds + more, mode, transcript.segments))
