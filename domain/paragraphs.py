"""Paragraphs without an LLM: whitespace tidied and sentences grouped into readable blocks.

This is what the embedded default can do honestly with no model: it never changes a word,
only the spacing between them.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_BLANK_LINES = re.compile(r"\n\s*\n")


def split_sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(" ".join(text.split())) if s]


def group_paragraphs(text: str, max_sentences: int = 4, max_chars: int = 500) -> str:
    """Keep the speaker's own paragraph breaks and cut long runs of sentences into blocks
    of at most ``max_sentences`` sentences or about ``max_chars`` characters."""
    paragraphs: list[str] = []
    for block in _BLANK_LINES.split(text):
        current: list[str] = []
        for sentence in split_sentences(block):
            too_long = sum(len(s) + 1 for s in current) + len(sentence) > max_chars
            if current and (len(current) >= max_sentences or too_long):
                paragraphs.append(" ".join(current))
                current = []
            current.append(sentence)
        if current:
            paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)
