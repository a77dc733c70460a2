"""Subtitle cues from a timed transcript.

Why this exists: recognizers cut speech where it suits them (Whisper's segments run up to
30 s, a cloud chunk up to minutes), but a subtitle must be readable in the time it is on
screen. ``cues`` re-cuts a transcript into cues that follow the usual rules of subtitling:

- at most ``MAX_LINES`` (2) lines of at most ``MAX_LINE_CHARACTERS`` (42) characters;
- on screen ``MIN_CUE_SECONDS`` (1) to ``MAX_CUE_SECONDS`` (7) seconds, where the speech
  allows: a cue is lengthened to 1 s only into silence, never over the next cue;
- ordered and never overlapping;
- cut at the end of a sentence if one falls late enough in the cue, else after a clause or
  at a segment boundary, else between words; inside a word only if it alone is longer than
  a line (and between characters of scripts written without spaces, such as Chinese);
- never across a pause of more than ``MAX_GAP_SECONDS`` (1 s) between segments, so that no
  cue stays on screen over a silence or joins two unrelated utterances.

Every word of the transcript lands in exactly one cue, in order. Inside a segment, a word's
time is estimated from its position in the segment's text (proportional to characters),
because recognizers give segment times, not word times; cuts at segment boundaries use the
recognizer's own times. Times are whole milliseconds, as SRT and WebVTT write them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import attrs

from domain.transcript import (
    CLOSERS,
    Segment,
    Transcript,
    UntimedTranscript,
    ends_clause,
    ends_sentence,
    written_without_spaces,
)

MAX_LINE_CHARACTERS = 42
MAX_LINES = 2
MIN_CUE_SECONDS = 1.0
MAX_CUE_SECONDS = 7.0
MAX_GAP_SECONDS = 1.0

# How good a cut after a token is, best last.
_INSIDE_WORD = 1
_BETWEEN_WORDS = 2
_AFTER_CLAUSE = 3  # also a segment boundary, where the recognizer's time is exact
_AFTER_SENTENCE = 4
# A cut of each quality is taken only if the cue keeps at least this share of the text
# that would fit, so that a cue is not cut to a stub after "Yes." at its start.
_MIN_SHARE = {_AFTER_SENTENCE: 1 / 3, _AFTER_CLAUSE: 1 / 2, _BETWEEN_WORDS: 0.0, _INSIDE_WORD: 0.0}

# Characters a line should not start with (they belong to what comes before) or end with.
_NO_LINE_START = set(CLOSERS + ".,!?;:…。，、！？；：・ー々")
_NO_LINE_END = set("\"'«“‘([{（「『【〔《〈")


@attrs.frozen
class Cue:
    """One subtitle: shown from ``start_ms`` to ``end_ms`` (milliseconds), one or two lines."""

    start_ms: int
    end_ms: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def start(self) -> float:
        return self.start_ms / 1000

    @property
    def end(self) -> float:
        return self.end_ms / 1000


@attrs.frozen
class _Token:
    """A word (or, for long words and spaceless scripts, a part of one) with its estimated
    time; ``cut_after`` is how good a cut right after it is."""

    text: str
    space_before: bool
    start: float
    end: float
    cut_after: int


def cues(transcript: Transcript, audio_end: float | None = None) -> tuple[Cue, ...]:
    """The transcript as subtitle cues. ``audio_end`` (seconds), when known, bounds how far
    the last cue may be lengthened. Raises UntimedTranscript for a transcript without times."""
    if not transcript.timed:
        raise UntimedTranscript("subtitles need a transcript with times")
    natural: list[tuple[float, float, tuple[str, ...]]] = []
    for run in _runs(transcript.segments):
        tokens = _tokens(run)
        first = 0
        while first < len(tokens):
            after = _cut(tokens, first)
            part = tokens[first:after]
            natural.append((part[0].start, part[-1].end, _layout(part)))
            first = after
    return _timed(natural, audio_end)


def _runs(segments: Sequence[Segment]) -> list[list[Segment]]:
    """Non-blank segments with monotonic times, grouped where the pause between two is at
    most ``MAX_GAP_SECONDS``."""
    runs: list[list[Segment]] = []
    previous_end = 0.0
    for segment in segments:
        if not segment.text.strip() or segment.start is None or segment.end is None:
            continue
        start = max(segment.start, previous_end)
        end = max(segment.end, start)
        if not runs or start - previous_end > MAX_GAP_SECONDS:
            runs.append([])
        runs[-1].append(attrs.evolve(segment, start=start, end=end))
        previous_end = end
    return runs


def _tokens(run: Sequence[Segment]) -> list[_Token]:
    tokens: list[_Token] = []
    for segment in run:
        assert segment.start is not None and segment.end is not None  # _runs keeps timed ones
        pieces = _pieces(segment.text)
        if tokens and pieces:
            first, _ = pieces[0]
            space = not written_without_spaces(tokens[-1].text[-1]) and not (
                written_without_spaces(first[0])
            )
            pieces[0] = (first, space)
        weights = [len(text) + 1 for text, _ in pieces]
        total = sum(weights)
        span = segment.end - segment.start
        done = 0
        for index, (text, space) in enumerate(pieces):
            start = segment.start + span * done / total
            done += weights[index]
            end = segment.start + span * done / total
            last = index == len(pieces) - 1
            tokens.append(_Token(text, space, start, end, _AFTER_CLAUSE if last else 0))
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        tokens[index] = attrs.evolve(token, cut_after=_cut_quality(token, following))
    return tokens


def _cut_quality(token: _Token, following: _Token | None) -> int:
    if following is not None and not following.space_before:
        if not (
            written_without_spaces(token.text[-1]) or written_without_spaces(following.text[0])
        ):
            return _INSIDE_WORD  # a word longer than a line, cut where it had to be
        if following.text[0] in _NO_LINE_START or token.text[-1] in _NO_LINE_END:
            return _INSIDE_WORD
    if ends_sentence(token.text):
        return _AFTER_SENTENCE
    if token.cut_after == _AFTER_CLAUSE or ends_clause(token.text):
        return _AFTER_CLAUSE
    return _BETWEEN_WORDS


def _pieces(text: str) -> list[tuple[str, bool]]:
    """The words of ``text``, each with whether a space comes before it; a word written
    without spaces is split between its characters, and any piece longer than a line is
    cut into lines' lengths."""
    pieces: list[tuple[str, bool]] = []
    for word in text.split():
        for index, part in enumerate(_split_word(word)):
            pieces.append((part, index == 0))
    return pieces


def _split_word(word: str) -> list[str]:
    if len(word) <= MAX_LINE_CHARACTERS and not any(map(written_without_spaces, word)):
        return [word]
    parts: list[str] = []
    current = word[0]
    for before, character in itertools.pairwise(word):
        spaceless = written_without_spaces(before) or written_without_spaces(character)
        if spaceless and character not in _NO_LINE_START and before not in _NO_LINE_END:
            parts.append(current)
            current = character
        else:
            current += character
    parts.append(current)
    return [
        part[i : i + MAX_LINE_CHARACTERS]
        for part in parts
        for i in range(0, len(part), MAX_LINE_CHARACTERS)
    ]


def _cut(tokens: Sequence[_Token], first: int) -> int:
    """Where the cue starting at ``first`` ends (exclusive): as much as fits on its lines
    and in its time, then cut at the best place that keeps enough of it."""
    lines, width = 1, len(tokens[first].text)
    after = first + 1
    while after < len(tokens):
        token = tokens[after]
        if token.end - tokens[first].start > MAX_CUE_SECONDS:
            break
        joined = width + (1 if token.space_before else 0) + len(token.text)
        if joined <= MAX_LINE_CHARACTERS:
            width = joined
        elif lines < MAX_LINES:
            lines, width = lines + 1, len(token.text)
        else:
            break
        after += 1
    if after == len(tokens):
        return after
    fitting = _width(tokens[first:after])
    best, best_quality = after, -1
    for end in range(after, first, -1):
        quality = tokens[end - 1].cut_after
        if quality > best_quality and _width(tokens[first:end]) >= _MIN_SHARE[quality] * fitting:
            best, best_quality = end, quality
    return best


def _width(tokens: Sequence[_Token]) -> int:
    return sum(len(t.text) + (1 if t.space_before else 0) for t in tokens)


def _line(tokens: Sequence[_Token]) -> str:
    parts = [tokens[0].text] if tokens else []
    parts += [(" " if t.space_before else "") + t.text for t in tokens[1:]]
    return "".join(parts)


def _layout(tokens: Sequence[_Token]) -> tuple[str, ...]:
    """One line if it fits, else the two-line split with the most even lengths, preferring
    a split after punctuation and never inside a word unless it must."""
    whole = _line(tokens)
    if len(whole) <= MAX_LINE_CHARACTERS:
        return (whole,)
    best: tuple[float, int] | None = None
    lines: tuple[str, ...] = ()
    for split in range(1, len(tokens)):
        top, bottom = _line(tokens[:split]), _line(tokens[split:])
        if len(top) > MAX_LINE_CHARACTERS or len(bottom) > MAX_LINE_CHARACTERS:
            continue
        quality = tokens[split - 1].cut_after
        penalty = 100 if quality == _INSIDE_WORD else -8 if quality >= _AFTER_CLAUSE else 0
        # A bottom-heavy pair reads better than a top-heavy one, hence the small bias.
        key = (max(len(top), len(bottom)) + penalty, len(top) - len(bottom))
        if best is None or key < best:
            best, lines = key, (top, bottom)
    assert lines, "_cut only makes cues that fit on two lines"
    return lines


def _timed(
    natural: Sequence[tuple[float, float, tuple[str, ...]]], audio_end: float | None
) -> tuple[Cue, ...]:
    """Whole milliseconds; each cue starts no earlier than the one before ends, lasts at
    most ``MAX_CUE_SECONDS``, and is lengthened to ``MIN_CUE_SECONDS`` where nothing
    follows closer (the next cue's start, or the end of the audio for the last one)."""
    limit_of_audio = math.inf if audio_end is None else _ms(audio_end)
    timed: list[Cue] = []
    previous_end = 0
    for index, (start_s, end_s, lines) in enumerate(natural):
        start = max(_ms(start_s), previous_end)
        following = _ms(natural[index + 1][0]) if index + 1 < len(natural) else limit_of_audio
        longest = start + round(MAX_CUE_SECONDS * 1000)
        end = max(_ms(end_s), start + round(MIN_CUE_SECONDS * 1000))
        end = int(min(end, following, longest))
        end = max(end, start + 1)  # no room at all (text with no duration): shown 1 ms
        timed.append(Cue(start, end, lines))
        previous_end = end
    return tuple(timed)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
