"""A summary made without a language model: the transcript's most telling sentences.

Why this exists: offline (no LLM configured) the Summary button still answers, with a
summary honestly labelled as extracted. Sentences are scored by how frequent their content
words are in the whole text (a classic frequency summariser: no model, no download, any
language that separates words with spaces), the best few kept in their original order.
"""

from __future__ import annotations

import re
from collections import Counter

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_WORD = re.compile(r"\w+", re.UNICODE)
# Words this short are mostly function words in the languages we meet (и, в, to, of, a…).
MIN_CONTENT_WORD = 4
DEFAULT_SENTENCES = 5


def sentences(text: str) -> list[str]:
    """The text cut after ., !, ? or … followed by white space; empty pieces dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def extractive_summary(text: str, max_sentences: int = DEFAULT_SENTENCES) -> str:
    """At most ``max_sentences`` sentences of ``text``, those whose content words are most
    frequent in the whole text (averaged, so long sentences are not favoured), in the order
    they were said. A text of at most that many sentences is its own summary."""
    if max_sentences < 1:
        raise ValueError("a summary has at least one sentence")
    found = sentences(text)
    if len(found) <= max_sentences:
        return " ".join(found)
    counts = Counter(_content_words(text))
    top = max(counts.values(), default=1)

    def score(sentence: str) -> float:
        words = _content_words(sentence)
        return sum(counts[w] / top for w in words) / len(words) if words else 0.0

    ranked = sorted(range(len(found)), key=lambda i: (-score(found[i]), i))
    kept = sorted(ranked[:max_sentences])
    return " ".join(found[i] for i in kept)


def _content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if len(w) >= MIN_CONTENT_WORD]
