"""Word and character error rates, to judge recognized text against a known script.

Why this exists: speech tests cannot compare text for equality (punctuation, case and
small slips vary between models and versions), but a bound on the error rate still fails
on garbage. Levenshtein distance over normalized words (WER) or characters (CER).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_NOT_WORD = re.compile(r"[^\w\s']|_")


def normalize(text: str) -> str:
    """Lowercase, ``ё`` -> ``е``, punctuation and apostrophes out, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower().replace("ё", "е")
    text = _NOT_WORD.sub(" ", text).replace("'", "")
    return " ".join(text.split())


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Insertions + deletions + substitutions turning ``reference`` into ``hypothesis``."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, start=1):
        current = [i]
        for j, hyp in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp)))
        previous = current
    return previous[-1]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word edits per reference word (may exceed 1.0 for long garbage)."""
    ref = normalize(reference).split()
    hyp = normalize(hypothesis).split()
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)


def char_error_rate(reference: str, hypothesis: str) -> float:
    """Character edits per reference character, spaces ignored."""
    ref = normalize(reference).replace(" ", "")
    hyp = normalize(hypothesis).replace(" ", "")
    if not ref:
        return 0.0 if not hyp else 1.0
    return edit_distance(ref, hyp) / len(ref)
