"""What an answer is made of in each output mode (``domain.outputs``)."""

from __future__ import annotations

import srt as srt_library

from domain.jobs import AudioSource, MediaKind, OutputMode, UserStyle, VoiceJob
from domain.outputs import LONG_RECORDING_SECONDS, answer, offers_stored_outputs
from domain.transcript import Segment, Transcript

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
