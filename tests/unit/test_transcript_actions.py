"""The pure decisions behind the actions on a transcript (#17): the price, the cache key,
the opaque handle, the translation's target, the extractive summary, and the buttons'
callback data read back (untrusted input)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.extractive_summary import extractive_summary, sentences
from domain.transcript_actions import (
    HANDLE_DIGITS,
    ActionRequest,
    TranscriptAction,
    action_handle,
    action_minutes,
    reservation_id,
    translation_target,
)
from infrastructure.telegram.action_buttons import (
    CALLBACK_DATA_LIMIT,
    Tap,
    action_buttons,
    parse_action,
    with_languages,
    with_timed_outputs,
)

durations = st.floats(0, 10 * 3600, allow_nan=False)
rates = st.integers(1, 10)


@given(durations, durations, rates, rates)
def test_action_pricing_is_monotone_in_the_duration_and_the_rate(
    a: float, b: float, rate_a: int, rate_b: int
) -> None:
    shorter, longer = sorted((a, b))
    low, high = sorted((rate_a, rate_b))
    assert 1 <= action_minutes(shorter, low) <= action_minutes(longer, low)
    assert action_minutes(longer, low) <= action_minutes(longer, high)


@given(durations, rates)
def test_an_action_costs_the_rate_per_started_half_hour(seconds: float, rate: int) -> None:
    blocks, rest = divmod(action_minutes(seconds, rate), rate)
    assert rest == 0 and blocks >= 1
    assert seconds <= blocks * 1800, "every started half hour is paid"
    assert blocks == 1 or seconds > (blocks - 1) * 1800, "and no more"


def test_the_default_price_boundaries() -> None:
    assert action_minutes(0, 1) == 1
    assert action_minutes(1800, 1) == 1
    assert action_minutes(1800.5, 1) == 2
    assert action_minutes(3600, 2) == 4


@given(st.integers(10**8, 10**13), st.integers(10**6, 10**9))
def test_a_handle_is_opaque_short_and_stable(chat_id: int, message_id: int) -> None:
    job_id = f"tg:{chat_id}:{message_id}"
    handle = action_handle(job_id)
    assert handle == action_handle(job_id) and len(handle) == HANDLE_DIGITS
    assert handle.isalnum() and str(chat_id) not in handle, "names no chat"


def test_each_result_has_its_own_key_and_reservation() -> None:
    keys = {
        ActionRequest(TranscriptAction.SUMMARY).key,
        ActionRequest(TranscriptAction.ACTION_ITEMS).key,
        ActionRequest(TranscriptAction.TRANSLATE, "ru").key,
        ActionRequest(TranscriptAction.TRANSLATE, "de").key,
    }
    assert len(keys) == 4
    summary = ActionRequest(TranscriptAction.SUMMARY)
    assert reservation_id("tg:1:2", summary) != "tg:1:2", "never the recording's own"


def test_a_translation_goes_to_the_users_language_unless_the_text_is_in_it() -> None:
    assert translation_target("en", "ru") == "ru"
    assert translation_target("ru", "ru-RU") is None
    assert translation_target(None, "de") == "de"
    assert translation_target("en", None) is None


speech = st.lists(
    st.lists(
        st.sampled_from(["weather", "rain", "plans", "meeting", "Anna", "call"]),
        min_size=1,
        max_size=8,
    ).map(lambda words: " ".join(words).capitalize() + "."),
    min_size=1,
    max_size=20,
)


@given(speech, st.integers(1, 6))
def test_an_extractive_summary_is_a_few_of_the_texts_own_sentences_in_order(
    said: list[str], most: int
) -> None:
    text = " ".join(said)
    summary = extractive_summary(text, most)
    kept = sentences(summary)
    assert 1 <= len(kept) <= most
    positions = iter(range(len(said)))
    for sentence in kept:  # a subsequence of the text's sentences
        assert any(said[i] == sentence for i in positions)


def test_the_summary_keeps_the_sentences_about_what_is_said_most() -> None:
    text = (
        "The meeting about the budget is on Monday. I had coffee. "
        "The budget meeting needs the budget figures. It was sunny. "
        "Bring the budget to the meeting."
    )
    summary = extractive_summary(text, 2)
    assert "coffee" not in summary and "sunny" not in summary


@given(st.text(max_size=80) | st.binary(max_size=80).map(lambda b: b.decode("latin-1")))
def test_any_callback_data_parses_or_is_none(data: str) -> None:
    tap = parse_action(data)
    assert tap is None or data.startswith("act:")


def test_the_buttons_data_parses_back_and_fits_telegram() -> None:
    handle = action_handle("tg:123456789:987654321")
    keyboard = action_buttons(handle, "en", with_model=True, with_times=True)
    keyboard = with_timed_outputs(with_languages(keyboard, handle), handle, "en")
    taps = [parse_action(b.callback_data) for row in keyboard.inline_keyboard for b in row]
    assert all(t is not None and t.handle == handle for t in taps)
    assert all(
        len(str(b.callback_data).encode()) <= CALLBACK_DATA_LIMIT
        for row in keyboard.inline_keyboard
        for b in row
    )
    kinds = [t.tap for t in taps if t is not None]
    assert kinds[:4] == [Tap.SUMMARY, Tap.ACTION_ITEMS, Tap.TRANSLATE, Tap.MORE]
    offline = action_buttons(handle, "en", with_model=False, with_times=False)
    assert [b.callback_data for b in offline.inline_keyboard[0]] == [f"act:s:{handle}"]
