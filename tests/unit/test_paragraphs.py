"""The local paragraphing never changes a word, only the spacing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.paragraphs import group_paragraphs

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzабвгдеё", min_size=1, max_size=12)
sentences = st.builds(
    lambda ws, end: " ".join(ws) + end,
    st.lists(words, min_size=1, max_size=12),
    st.sampled_from(".!?…"),
)
texts = st.lists(sentences, max_size=40).map(" ".join)


@given(texts, st.integers(1, 8), st.integers(20, 800))
def test_words_are_kept_in_order(text: str, max_sentences: int, max_chars: int) -> None:
    assert group_paragraphs(text, max_sentences, max_chars).split() == text.split()


@given(texts, st.integers(1, 8))
def test_no_paragraph_has_more_sentences_than_allowed(text: str, max_sentences: int) -> None:
    for paragraph in group_paragraphs(text, max_sentences, 10_000).split("\n\n"):
        ends = sum(paragraph.count(mark) for mark in ".!?…")
        assert ends <= max_sentences


def test_example() -> None:
    text = "One.  Two!\nThree? Four. Five.\n\nSix."
    assert group_paragraphs(text, max_sentences=2) == "One. Two!\n\nThree? Four.\n\nFive.\n\nSix."
