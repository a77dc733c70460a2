"""Whether a recognition is a transcript at all, or a recognizer's loop or hallucination.

Why this exists: Whisper-style models, unsure of the language or given silence, can emit
one phrase over and over ("et bien et bien et bien ..." a hundred times for a 5 s
Russian note) or far more words than the audio could hold. Such a result must not be
delivered and charged as a transcript: it is retried once with a language hint and, if
still degenerate, the user is told plainly and charged nothing. Two signs, each cheap:

- one n-gram (up to ``MAX_PHRASE_UNITS`` words) repeated at least ``MIN_REPEATS`` times
  and covering ``REPEAT_COVERAGE`` or more of the text;
- more words, or more letters, per second of audio than anyone speaks.

Words are runs of ``\\w``; a run longer than ``LONG_RUN`` (a script written without spaces,
or "hahaha..." as one word) counts as its characters, so loops are found in any script.
"""

from __future__ import annotations

import re
from collections import Counter
from enum import StrEnum

import attrs

MAX_PHRASE_UNITS = 12
MIN_REPEATS = 6
REPEAT_COVERAGE = 0.5
LONG_RUN = 20
# Fast conversational speech is 3-5 words (about 6-7 syllables) a second; auctioneers and
# rappers reach 7-8 briefly. Letters cover scripts whose words are long or unspaced.
MAX_WORDS_PER_SECOND = 8.0
MAX_LETTERS_PER_SECOND = 50.0
# Allowance for very short audio, where one word more or less changes the rate a lot.
SLACK_WORDS = 4
SLACK_LETTERS = 20

_WORD = re.compile(r"\w+")


class DegenerateReason(StrEnum):
    REPEATED_PHRASE = "repeated_phrase"
    TOO_FAST = "too_fast"


@attrs.frozen
class Degenerate:
    """Why a recognition is not a transcript; ``phrase`` is the repeated one, if any."""

    reason: DegenerateReason
    phrase: str | None = None
    coverage: float = 0.0
    words_per_second: float = 0.0


def units_of(text: str) -> list[str]:
    """Case-folded words; a run of word characters longer than ``LONG_RUN``, character
    by character."""
    units: list[str] = []
    for word in _WORD.findall(text.casefold()):
        if len(word) > LONG_RUN:
            units.extend(word)
        else:
            units.append(word)
    return units


def degenerate_recognition(text: str, duration_seconds: float) -> Degenerate | None:
    """Why ``text`` cannot be a transcript of ``duration_seconds`` of audio, or None."""
    units = units_of(text)
    if not units:
        return None
    duration = max(0.0, duration_seconds)
    words = len(_WORD.findall(text))
    rate = words / duration if duration > 0 else float("inf")
    repeated = _most_repeated(units)
    if repeated is not None:
        phrase, coverage = repeated
        return Degenerate(DegenerateReason.REPEATED_PHRASE, phrase, coverage, rate)
    letters = sum(len(unit) for unit in units)
    if (
        words > MAX_WORDS_PER_SECOND * duration + SLACK_WORDS
        or letters > MAX_LETTERS_PER_SECOND * duration + SLACK_LETTERS
    ):
        return Degenerate(DegenerateReason.TOO_FAST, words_per_second=rate)
    return None


def _most_repeated(units: list[str]) -> tuple[str, float] | None:
    """The shortest n-gram repeated ``MIN_REPEATS`` times and covering ``REPEAT_COVERAGE``
    of the units, with its coverage; None if there is none.

    Occurrences are counted where they start, so a phrase that is itself periodic ("a b a
    b") may be counted overlapping; coverage is capped at 1. A smaller period of the same
    loop is found first anyway."""
    total = len(units)
    for size in range(1, min(MAX_PHRASE_UNITS, total // MIN_REPEATS) + 1):
        counts = Counter(tuple(units[i : i + size]) for i in range(total - size + 1))
        gram, count = counts.most_common(1)[0]
        coverage = min(1.0, count * size / total)
        if count >= MIN_REPEATS and coverage >= REPEAT_COVERAGE:
            return " ".join(gram), coverage
    return None
