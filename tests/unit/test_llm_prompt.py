"""The shared LLM instructions and answer guards."""

from __future__ import annotations

import pytest

from application.errors import FormattingFailed
from domain.jobs import UserStyle
from infrastructure.llm.prompt import clean_answer, system_prompt


def test_prompt_follows_the_yo_setting() -> None:
    assert "Keep the letter ё" in system_prompt(UserStyle(use_yo=True))
    assert "instead of ё" in system_prompt(UserStyle(use_yo=False))


def test_thinking_blocks_are_stripped() -> None:
    answer = "<think>plan the paragraphs</think>\nHello.\n\nWorld."
    assert clean_answer(answer, truncated=False) == "Hello.\n\nWorld."


@pytest.mark.parametrize("answer", ["", "   ", "<think>still thinking", "<think>x</think>"])
def test_empty_or_unfinished_answers_are_rejected(answer: str) -> None:
    with pytest.raises(FormattingFailed):
        clean_answer(answer, truncated=False)


def test_a_cut_off_answer_is_rejected() -> None:
    with pytest.raises(FormattingFailed):
        clean_answer("A perfectly good start of", truncated=True)
