"""The formatter of the embedded default: paragraphs and tidy spacing, no language model.

Honestly named: it does not fix recognition errors or punctuation (Whisper already
punctuates); it makes a long transcript readable and is the last link of every chain.
"""

from __future__ import annotations

from domain.jobs import UserStyle
from domain.paragraphs import group_paragraphs


class ParagraphFormatter:
    name = "local-paragraphs"

    def __init__(self, max_sentences: int = 4, max_chars: int = 500) -> None:
        self._max_sentences = max_sentences
        self._max_chars = max_chars

    async def format(self, text: str, style: UserStyle) -> str:
        return group_paragraphs(text, self._max_sentences, self._max_chars)
