"""What an answer is made of in each output mode, from a job's text and its timed segments.

Why this exists: the user picks how a transcript reaches them (``/output``): the formatted
text as messages or a .txt file, paragraphs with times, or subtitles (.srt, .vtt). The
messenger only sends; this decides what is sent. The timed outputs are made from the
recognizer's segments (the formatted text has no times: an LLM never moves them), with the
user's ё policy applied as to the text; a transcript stored without times (a job from
before segments were kept) falls back to its text, so no answer is lost for want of times.

A long recording answered as plain text offers its timed outputs afterwards, from the
stored transcript (``offers_stored_outputs``): nothing is recognized or charged again.
"""

from __future__ import annotations

import attrs

from domain.jobs import OutputMode, VoiceJob
from domain.subtitle_files import srt, webvtt
from domain.subtitles import cues
from domain.text import apply_yo_policy
from domain.timed_text import timestamped_text
from domain.transcript import Transcript

# From this length on, a recording answered as text gets buttons for its timed outputs.
LONG_RECORDING_SECONDS = 600.0
# What those buttons offer, in their order.
STORED_OUTPUTS = (OutputMode.TIMED, OutputMode.SRT)
SUBTITLE_EXTENSIONS = {OutputMode.SRT: "srt", OutputMode.VTT: "vtt"}


@attrs.frozen
class Answer:
    """``text``: what the messages say (for a subtitle file, what its preview is cut
    from); ``subtitles``: the subtitle file's contents, named ``NAME.<extension>``."""

    text: str
    subtitles: str | None = None
    extension: str | None = None


def answer(
    mode: OutputMode,
    text: str,
    transcript: Transcript,
    duration_seconds: float | None,
    *,
    use_yo: bool,
) -> Answer:
    """The answer in ``mode`` for the formatted ``text`` of ``transcript`` (the
    recognizer's segments); the text itself when the transcript has no times."""
    if mode not in (OutputMode.TIMED, *SUBTITLE_EXTENSIONS) or not has_times(transcript):
        return Answer(text)
    if mode is OutputMode.TIMED:
        return Answer(apply_yo_policy(timestamped_text(transcript), use_yo))
    subtitles = cues(transcript, duration_seconds)
    rendered = srt(subtitles) if mode is OutputMode.SRT else webvtt(subtitles)
    return Answer(text, apply_yo_policy(rendered, use_yo), SUBTITLE_EXTENSIONS[mode])


def offers_stored_outputs(job: VoiceJob) -> bool:
    """Whether the answer of ``job`` carries buttons for its timed outputs: a long
    recording answered as plain text whose transcript kept its times."""
    return (
        job.style.output is OutputMode.MESSAGES
        and job.duration_seconds >= LONG_RECORDING_SECONDS
        and has_times(job.recognized)
    )


def has_times(transcript: Transcript) -> bool:
    """Whether subtitles and timed text can be made: some speech, every piece timed."""
    return bool(transcript.segments) and transcript.timed
