"""The scoring used by the speech tests must itself be right."""

from __future__ import annotations

import pytest

from tests.word_error_rate import char_error_rate, edit_distance, normalize, word_error_rate


def test_normalize_ignores_case_punctuation_and_yo() -> None:
    assert normalize("Hi, it's  Anna! Ёлка — ЕЩЁ?") == "hi its anna елка еще"


def test_edit_distance_counts_each_kind_of_edit() -> None:
    assert edit_distance("abc", "abc") == 0
    assert edit_distance("abc", "abd") == 1  # substitution
    assert edit_distance("abc", "ab") == 1  # deletion
    assert edit_distance("abc", "abxc") == 1  # insertion
    assert edit_distance("", "abc") == 3


def test_word_error_rate() -> None:
    reference = "take an umbrella with you"
    assert word_error_rate(reference, "Take an umbrella, with you.") == 0.0
    assert word_error_rate(reference, "take a umbrella with you") == pytest.approx(0.2)
    assert word_error_rate(reference, "") == 1.0
    assert word_error_rate("", "") == 0.0
    assert word_error_rate("", "noise") == 1.0


def test_char_error_rate_ignores_spaces() -> None:
    assert char_error_rate("Привет, это Иван", "привет это иван") == 0.0
    assert char_error_rate("офисе", "ифсе") == pytest.approx(0.4)
