"""A transcript as timed segments, and its plain text.

Why this exists: recognizers know *when* each phrase was said (Whisper's segments, the
offsets of the chunks a long recording is cut into), and subtitles, timestamped text and
"find the moment something was said" need that time. A ``Transcript`` keeps it: an ordered
tuple of ``Segment`` (start, end, text, and a speaker label left empty until diarization
fills it). Everything users got before, the plain text, is derived from it by
``Transcript.text`` and reads exactly as before for a single segment.

A transcript is either timed (every segment has a start and an end) or untimed (none has):
a transcript stored before times were kept reads back as one untimed segment and can still
be delivered as text, but not as subtitles (``UntimedTranscript``).

Segments are kept as the recognizer gave them, in spoken order; times are not required to
be strictly increasing (a recognizer may let two segments overlap slightly), and the
consumers (``domain.subtitles``, ``domain.timed_text``) make them monotonic themselves.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import attrs

from domain.errors import DomainError


class UntimedTranscript(DomainError):
    """An output that needs times was asked of a transcript that has none."""


def _check_time(_instance: object, attribute: attrs.Attribute[float | None], value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{attribute.name} must be a number of seconds, not {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{attribute.name} must be finite and not negative, not {value!r}")


@attrs.frozen
class Segment:
    """One stretch of speech: seconds from the start of the recording, and its text.

    ``start`` and ``end`` are both ``None`` for text whose time is unknown. ``speaker`` is
    empty until a diarizing recognizer names who spoke.
    """

    start: float | None = attrs.field(validator=_check_time)
    end: float | None = attrs.field(validator=_check_time)
    text: str
    speaker: str = ""

    def __attrs_post_init__(self) -> None:
        if (self.start is None) != (self.end is None):
            raise ValueError("a segment has both a start and an end, or neither")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"a segment cannot end ({self.end}) before it starts ({self.start})")

    @property
    def timed(self) -> bool:
        return self.start is not None

    def shifted(self, seconds: float) -> Segment:
        """The same segment ``seconds`` later (a chunk's segments onto the recording's clock)."""
        if self.start is None or self.end is None:
            return self
        return attrs.evolve(self, start=self.start + seconds, end=self.end + seconds)


def _check_segments(
    _instance: object, _attribute: attrs.Attribute[tuple[Segment, ...]], value: object
) -> None:
    if not isinstance(value, tuple) or not all(isinstance(s, Segment) for s in value):
        raise TypeError("a transcript's segments are a tuple of Segment")
    if len({s.timed for s in value}) > 1:
        raise ValueError("either every segment of a transcript has times or none has")


@attrs.frozen
class Transcript:
    """What was said, in spoken order. Empty (no segments, or only blank ones) = no speech."""

    segments: tuple[Segment, ...] = attrs.field(default=(), validator=_check_segments)

    @classmethod
    def untimed(cls, text: str) -> Transcript:
        """Text with no times: one segment, or none for blank text."""
        return cls((Segment(None, None, text),) if text.strip() else ())

    @property
    def timed(self) -> bool:
        """Whether the segments carry times (vacuously true of an empty transcript)."""
        return all(s.timed for s in self.segments)

    @property
    def text(self) -> str:
        """The plain text users read: the segments' texts, trimmed, joined by one space
        (no space where either side is written without spaces, e.g. Chinese or Japanese)."""
        return join_pieces(s.text.strip() for s in self.segments)

    @property
    def end(self) -> float | None:
        """When the last segment ends; ``None`` if untimed or empty."""
        ends = [s.end for s in self.segments if s.end is not None]
        return max(ends) if ends else None

    def shifted(self, seconds: float) -> Transcript:
        """Every segment ``seconds`` later: a chunk's transcript onto the recording's clock."""
        return Transcript(tuple(s.shifted(seconds) for s in self.segments))


def placed(chunk: Transcript, start: float, end: float) -> Transcript:
    """A chunk's transcript on the recording's clock, for a chunk cut from ``start`` to
    ``end`` seconds: timed segments (Whisper's, from the chunk's own start) are shifted by
    ``start`` and kept inside the chunk; an untimed one (a recognizer that gives no times,
    such as qwen3-asr-flash) becomes one segment spanning the chunk."""
    if end < start:
        raise ValueError(f"a chunk cannot end ({end}) before it starts ({start})")
    if not chunk.segments:
        return chunk
    if not chunk.timed:
        text = chunk.text
        return Transcript((Segment(start, end, text),) if text else ())
    inside = []
    for segment in chunk.shifted(start).segments:
        assert segment.start is not None and segment.end is not None  # timed
        first = min(segment.start, end)
        inside.append(attrs.evolve(segment, start=first, end=min(max(segment.end, first), end)))
    return Transcript(tuple(inside))


def concatenate(parts: Iterable[Transcript]) -> Transcript:
    """The transcripts one after another (chunks of one recording, already shifted)."""
    return Transcript(tuple(s for part in parts for s in part.segments))


# Scripts written without spaces between words: no space is put where two pieces meet if
# either side is one of these (CJK ideographs and punctuation, kana, fullwidth forms, Thai,
# Lao, Khmer, Myanmar). Hangul is written with spaces and is not here.
_NO_SPACE_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3000, 0x30FF),  # CJK symbols and punctuation, hiragana, katakana
    (0x3100, 0x312F),  # bopomofo
    (0x31F0, 0x31FF),  # katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # halfwidth and fullwidth forms
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


def written_without_spaces(character: str) -> bool:
    """Whether ``character`` belongs to a script that puts no spaces between words."""
    code = ord(character)
    return any(low <= code <= high for low, high in _NO_SPACE_RANGES)


def separator(before: str, after: str) -> str:
    """What goes between two non-empty pieces of text: a space, or nothing for scripts
    written without spaces."""
    if written_without_spaces(before[-1]) or written_without_spaces(after[0]):
        return ""
    return " "


def join_pieces(pieces: Iterable[str]) -> str:
    """Non-empty pieces joined with ``separator``; empty ones are skipped."""
    out: list[str] = []
    for piece in pieces:
        if not piece:
            continue
        if out:
            out.append(separator(out[-1], piece))
        out.append(piece)
    return "".join(out)


# Closing quotes and brackets that may follow the mark ending a sentence or a clause.
CLOSERS = "\"'»”’)]}）」』】〕》〉"
_SENTENCE_END = re.compile(rf"[.!?…。！？][{re.escape(CLOSERS)}]*$")
_CLAUSE_END = re.compile(rf"[,;:—–，、；：][{re.escape(CLOSERS)}]*$")


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends a sentence: ``.``, ``!``, ``?``, ``…``, ``。`` and the like,
    possibly followed by closing quotes or brackets."""
    return _SENTENCE_END.search(text) is not None


def ends_clause(text: str) -> bool:
    """Whether ``text`` ends a clause: a comma, semicolon, colon, dash and the like."""
    return _CLAUSE_END.search(text) is not None
