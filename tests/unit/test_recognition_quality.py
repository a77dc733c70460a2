"""Properties of the degenerate-recognition detector: loops and impossible rates are found
in any script; ordinary, varied speech at a human rate never is."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.recognition_quality import (
    MAX_LETTERS_PER_SECOND,
    MAX_PHRASE_UNITS,
    MAX_WORDS_PER_SECOND,
    MIN_REPEATS,
    DegenerateReason,
    degenerate_recognition,
    units_of,
)

SAMPLES = Path(__file__).resolve().parents[2] / "samples"

letters = st.sampled_from("abcdefghijklmnopqrstuvwxyzабвгдеёжзийклмнопрстуфхцчшщыэюяéü")
words = st.text(letters, min_size=1, max_size=10)
phrases = st.lists(words, min_size=1, max_size=MAX_PHRASE_UNITS)
separators = st.sampled_from([" ", ", ", ". ", "! ", " - ", "\n"])
durations = st.floats(min_value=0.0, max_value=4 * 3600, allow_nan=False)


@given(phrases, st.integers(min_value=max(MIN_REPEATS, 8), max_value=200), separators, durations)
def test_any_phrase_repeated_many_times_is_degenerate(
    phrase: list[str], repeats: int, separator: str, duration: float
) -> None:
    text = separator.join([" ".join(phrase)] * repeats)

    verdict = degenerate_recognition(text, duration)

    assert verdict is not None
    assert verdict.reason is DegenerateReason.REPEATED_PHRASE
    assert verdict.coverage >= 0.5


@given(
    phrases,
    st.integers(min_value=2 * MIN_REPEATS, max_value=100),
    st.lists(words, max_size=MIN_REPEATS),
    durations,
)
def test_a_loop_after_a_real_start_is_still_found(
    phrase: list[str], repeats: int, start: list[str], duration: float
) -> None:
    """ "Привет, это Иван ... и вот и вот и вот": the loop covers most of the text."""
    loop = " ".join([" ".join(phrase)] * repeats)
    text = " ".join(start) + ". " + loop

    verdict = degenerate_recognition(text, duration)

    assert verdict is not None and verdict.reason is DegenerateReason.REPEATED_PHRASE


@given(st.text(st.sampled_from("好的是我你他们"), min_size=1, max_size=6), st.integers(25, 300))
def test_a_loop_in_a_script_without_spaces_is_found(phrase: str, repeats: int) -> None:
    verdict = degenerate_recognition(phrase * repeats, 30.0)

    assert verdict is not None


@st.composite
def varied_speech(draw: st.DrawFn) -> tuple[str, float]:
    """Distinct words (as a transcript of ordinary speech mostly is, over a short span),
    punctuated, and an audio duration giving at most 4 words a second."""
    spoken = draw(st.lists(words, min_size=1, max_size=400, unique=True))
    marks = draw(st.lists(separators, min_size=len(spoken), max_size=len(spoken)))
    text = "".join(word + mark for word, mark in zip(spoken, marks, strict=True)).strip()
    rate = draw(st.floats(min_value=0.3, max_value=4.0))
    return text, len(spoken) / rate


@given(varied_speech())
def test_varied_text_at_a_human_rate_is_a_transcript(speech: tuple[str, float]) -> None:
    text, duration = speech

    assert degenerate_recognition(text, duration) is None


@given(varied_speech(), st.floats(min_value=1.0, max_value=100.0))
def test_more_audio_never_makes_a_transcript_degenerate(
    speech: tuple[str, float], longer: float
) -> None:
    text, duration = speech
    assert degenerate_recognition(text, duration * longer) is None


@given(varied_speech(), st.floats(min_value=0.0, max_value=1.0))
def test_less_audio_for_the_same_text_is_degenerate_once_it_is(
    speech: tuple[str, float], shorter: float
) -> None:
    text, duration = speech
    if degenerate_recognition(text, duration) is not None:
        assert degenerate_recognition(text, duration * shorter) is not None


@given(st.lists(words, min_size=60, max_size=200, unique=True), st.floats(0.5, 5.0))
def test_far_more_words_than_the_audio_could_hold_is_too_fast(
    spoken: list[str], seconds: float
) -> None:
    verdict = degenerate_recognition(" ".join(spoken), seconds)

    assert verdict is not None and verdict.reason is DegenerateReason.TOO_FAST
    assert verdict.words_per_second > MAX_WORDS_PER_SECOND


def test_letters_count_where_words_are_not_spaced() -> None:
    unspaced = "今天天气很好我们一起去公园散步然后吃午饭" * 3  # no repeats long enough to loop
    seconds = len(unspaced) / (MAX_LETTERS_PER_SECOND * 2)

    verdict = degenerate_recognition(unspaced, seconds)

    assert verdict is not None


@given(st.text(max_size=300), durations)
def test_it_never_raises_and_blank_text_is_not_degenerate(text: str, duration: float) -> None:
    verdict = degenerate_recognition(text, duration)
    if not units_of(text):
        assert verdict is None


def test_the_loop_the_issue_reported() -> None:
    text = "et vous y es bien " + "et bien " * 100

    verdict = degenerate_recognition(text, 5.0)

    assert verdict is not None
    assert verdict.reason is DegenerateReason.REPEATED_PHRASE
    assert verdict.phrase in {"et bien", "bien et"}


@pytest.mark.parametrize(
    ("name", "seconds"),
    [("en-weather", 9.56), ("ru-greeting", 9.63), ("en-short", 4.23), ("ru-short", 4.81)],
)
def test_the_committed_samples_scripts_are_transcripts(name: str, seconds: float) -> None:
    script = (SAMPLES / f"{name}.txt").read_text()

    assert degenerate_recognition(script, seconds) is None


@pytest.mark.parametrize(
    "text",
    [
        "No, no, no, no. I said Tuesday, not Thursday.",
        "Bye! Bye-bye! Bye.",
        "Ha ha ha ha, that was funny. Anyway, see you tomorrow at the station by the clock.",
        "Один, два, три, четыре, пять, шесть, семь, восемь, девять, десять.",
    ],
)
def test_ordinary_repetitions_in_speech_are_not_loops(text: str) -> None:
    assert degenerate_recognition(text, 8.0) is None


def test_a_long_real_transcript_with_a_refrain_is_not_a_loop() -> None:
    verse = (SAMPLES / "en-weather.txt").read_text()
    refrain = "take an umbrella"
    text = " ".join(f"{verse} {refrain}" for _ in range(10))

    assert degenerate_recognition(text, 100.0) is None
