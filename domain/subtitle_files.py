"""SRT and WebVTT files from subtitle cues.

Why this exists: the two subtitle formats people load into players and video editors
(SubRip ``.srt`` for almost everything, WebVTT ``.vtt`` for the web), written from
``domain.subtitles.Cue`` as plain text with no library, so that the domain stays pure and
the exact bytes are testable. The tests parse every rendering back with the ``srt`` and
``webvtt-py`` libraries.

SubRip has no escaping; a cue never contains a blank line (cues come from words), which is
the one thing that would break it. WebVTT treats ``&``, ``<`` and ``>`` as markup, so they
are written as character references (which also keeps ``-->`` out of the cue text).
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.subtitles import Cue

_VTT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def srt(cues: Iterable[Cue]) -> str:
    """A SubRip file: numbered blocks ``1``, ``00:00:01,000 --> 00:00:03,500``, the lines."""
    blocks = [
        f"{number}\n{_clock(cue.start_ms, ',')} --> {_clock(cue.end_ms, ',')}\n{cue.text}\n"
        for number, cue in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def webvtt(cues: Iterable[Cue]) -> str:
    """A WebVTT file: the ``WEBVTT`` header, then ``00:00:01.000 --> 00:00:03.500`` blocks."""
    blocks = [
        f"{_clock(cue.start_ms, '.')} --> {_clock(cue.end_ms, '.')}\n"
        f"{cue.text.translate(_VTT_ESCAPES)}\n"
        for cue in cues
    ]
    return "\n".join(["WEBVTT\n", *blocks])


def _clock(milliseconds: int, decimal_mark: str) -> str:
    """``HH:MM:SS,mmm`` (SRT) or ``HH:MM:SS.mmm`` (WebVTT); hours grow past two digits."""
    seconds, millis = divmod(milliseconds, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{decimal_mark}{millis:03d}"
