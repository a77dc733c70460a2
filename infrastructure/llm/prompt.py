"""What every LLM formatter asks for, and the guards on what comes back.

Qwen and Gemini get the same instructions, so switching providers changes nothing the user
sees; their answers pass the same checks (thinking blocks stripped, cut-off answers
rejected) before the chain's length guard decides whether to keep them.
"""

from __future__ import annotations

import re

from application.errors import FormattingFailed
from domain.jobs import UserStyle

_THINKING = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_UNCLOSED_THINKING = re.compile(r"^\s*<(think|thinking|reasoning)>", re.IGNORECASE)

_BASE_PROMPT = (
    "You format a speech-recognition transcript for reading. Fix obvious recognition "
    "errors, add punctuation and capitalisation, and split the text into paragraphs by "
    "meaning, separated by one blank line. Keep the speaker's language and words; do not "
    "summarise, translate, shorten or add anything: no titles, notes, comments or "
    "explanations. Answer with the formatted text only, as plain text without markup."
)


def system_prompt(style: UserStyle) -> str:
    yo = (
        "Keep the letter ё where Russian spelling uses it."
        if style.use_yo
        else "Write е instead of ё everywhere."
    )
    return f"{_BASE_PROMPT} {yo}"


def clean_answer(answer: str | None, *, truncated: bool) -> str:
    """The model's text without thinking blocks; FormattingFailed if it is unusable."""
    if truncated:
        raise FormattingFailed("the model's answer was cut off (length limit)", transient=False)
    text = _THINKING.sub("", answer or "")
    if _UNCLOSED_THINKING.match(text):
        raise FormattingFailed("the model answered with unfinished reasoning only")
    text = text.strip()
    if not text:
        raise FormattingFailed("the model answered with no text")
    return text
