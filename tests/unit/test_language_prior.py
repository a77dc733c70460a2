"""Properties of the language prior: the user's language decides only when detection is
unsure and does not rule it out; with no hint, detection's answer stands."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from infrastructure.whisper.language_prior import (
    PLAUSIBLE_HINT,
    SHORT_SPEECH_SECONDS,
    UNSURE_BELOW,
    choose_language,
)

codes = st.sampled_from(["en", "ru", "fr", "de", "uk", "la", "nn"])


@st.composite
def rankings(draw: st.DrawFn) -> list[tuple[str, float]]:
    languages = draw(st.lists(codes, min_size=1, max_size=7, unique=True))
    weights = draw(st.lists(st.floats(0.0, 1.0), min_size=len(languages), max_size=len(languages)))
    total = sum(weights) or 1.0
    ranked = sorted(zip(languages, (w / total for w in weights), strict=True), key=lambda x: -x[1])
    return ranked


seconds = st.floats(min_value=0.0, max_value=600.0)


@given(rankings(), seconds)
def test_without_a_hint_detection_stands(ranked: list[tuple[str, float]], speech: float) -> None:
    assert choose_language(ranked, None, speech) == ranked[0]


@given(rankings(), st.one_of(st.none(), codes), seconds)
def test_the_answer_is_detection_s_or_the_hint(
    ranked: list[tuple[str, float]], hint: str | None, speech: float
) -> None:
    language, probability = choose_language(ranked, hint, speech)

    assert (language, probability) == ranked[0] or language == hint
    if language == hint and hint != ranked[0][0]:
        assert probability >= PLAUSIBLE_HINT
        assert dict(ranked)[hint] == probability


@given(rankings(), codes, st.floats(min_value=SHORT_SPEECH_SECONDS, max_value=600.0))
def test_sure_detection_of_enough_speech_is_never_overruled(
    ranked: list[tuple[str, float]], hint: str, speech: float
) -> None:
    if ranked[0][1] >= UNSURE_BELOW:
        assert choose_language(ranked, hint, speech) == ranked[0]


def test_the_issue_s_case_a_russian_note_heard_as_french() -> None:
    ranked = [("fr", 0.41), ("ru", 0.33), ("en", 0.1)]

    assert choose_language(ranked, "ru", 5.0) == ("ru", 0.33)


def test_english_speech_from_a_russian_telegram_user_stays_english() -> None:
    ranked = [("en", 0.52), ("la", 0.04), ("ru", 0.0013)]  # measured: en-weather, 1.2 s

    assert choose_language(ranked, "ru", 1.2) == ("en", 0.52)


def test_short_speech_is_unsure_below_near_certainty() -> None:
    ranked = [("en", 0.9), ("ru", 0.05)]

    assert choose_language(ranked, "ru", 2.0) == ("ru", 0.05)
    assert choose_language(ranked, "ru", 10.0) == ("en", 0.9)
