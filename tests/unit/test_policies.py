"""Property tests of every numeric policy."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.policies import (
    PADDING_TOLERANCE_SECONDS,
    PCM_16K,
    SHORT_MP3,
    SHORT_OPUS,
    STANDARD_MP3,
    STANDARD_OPUS,
    AudioEncoding,
    EnergyEnvelope,
    ProcessingMode,
    is_plausible_formatting,
    needs_llm_formatting,
    plan_chunks,
    price_minutes,
    processing_mode,
    select_profile,
)

durations = st.floats(min_value=0, max_value=6 * 3600, allow_nan=False)


@given(durations, durations)
def test_price_is_monotonic_and_at_least_one_minute(a: float, b: float) -> None:
    low, high = sorted((a, b))
    assert 1 <= price_minutes(low) <= price_minutes(high)


@given(durations)
def test_price_covers_the_duration_but_its_padding_and_never_a_whole_minute_more(d: float) -> None:
    minutes = price_minutes(d)
    assert d <= minutes * 60 + PADDING_TOLERANCE_SECONDS
    assert minutes == 1 or d > (minutes - 1) * 60 + PADDING_TOLERANCE_SECONDS


@given(st.integers(min_value=1, max_value=6 * 60), st.floats(min_value=0, max_value=1))
def test_codec_padding_past_a_whole_minute_costs_nothing_and_more_starts_one(
    minutes: int, fraction: float
) -> None:
    """Up to the tolerance past ``minutes`` whole minutes costs ``minutes``; anything from
    just past the tolerance costs one more."""
    assert price_minutes(minutes * 60 + fraction * PADDING_TOLERANCE_SECONDS) == minutes
    assert price_minutes(minutes * 60 + PADDING_TOLERANCE_SECONDS) == minutes
    beyond = minutes * 60 + PADDING_TOLERANCE_SECONDS + 0.001 + fraction * 59
    assert price_minutes(beyond) == minutes + 1


PRICES = [(0, 1), (0.04, 1), (1, 1), (60, 1), (60.01, 1), (60.05, 1), (60.051, 2), (60.5, 2),
          (1800.013, 30), (1800.06, 31), (3600, 60)]  # fmt: skip


@pytest.mark.parametrize(("seconds", "minutes"), PRICES)
def test_price_examples(seconds: float, minutes: int) -> None:
    assert price_minutes(seconds) == minutes


def test_the_padding_tolerance_is_a_few_codec_frames() -> None:
    assert 0.02 <= PADDING_TOLERANCE_SECONDS <= 0.1


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_price_refuses_impossible_durations(bad: float) -> None:
    with pytest.raises(ValueError):
        price_minutes(bad)


thresholds = st.floats(min_value=0.5, max_value=60)
LIGHT_AND_STANDARD = {
    AudioEncoding.MP3: (SHORT_MP3, STANDARD_MP3),
    AudioEncoding.OPUS: (SHORT_OPUS, STANDARD_OPUS),
}


@given(durations, durations, thresholds, thresholds)
def test_the_lighter_profile_goes_to_the_shorter_clips(
    a: float, b: float, t1: float, t2: float
) -> None:
    shorter, longer = sorted((a, b))
    low, high = sorted((t1, t2))
    for encoding, (light, standard) in LIGHT_AND_STANDARD.items():
        assert light.bitrate_kbps < standard.bitrate_kbps
        assert select_profile(a, encoding, t1) in (light, standard)
        if select_profile(longer, encoding, t1) is light:
            assert select_profile(shorter, encoding, t1) is light, "a shorter clip is lighter"
        if select_profile(a, encoding, low) is light:
            assert select_profile(a, encoding, high) is light, "a higher threshold, lighter"
        assert select_profile(0, encoding, t1) is light
        assert select_profile(t1, encoding, t1) is standard, "the threshold itself: standard"
    assert select_profile(a, AudioEncoding.PCM_S16LE, t1) == PCM_16K


def test_reference_profiles() -> None:
    assert (SHORT_MP3.bitrate_kbps, SHORT_MP3.sample_rate) == (24, 8000)
    assert (STANDARD_MP3.bitrate_kbps, STANDARD_MP3.sample_rate) == (32, 16000)
    assert select_profile(9.99, AudioEncoding.MP3) is SHORT_MP3
    assert select_profile(10.0, AudioEncoding.MP3) is STANDARD_MP3
    assert STANDARD_MP3.bytes_per_second * 60 == 240_000


sync_thresholds = st.floats(min_value=0, max_value=600)


@given(durations, durations, sync_thresholds, sync_thresholds)
def test_longer_audio_is_queued_first_and_a_higher_threshold_keeps_more_inline(
    a: float, b: float, t1: float, t2: float
) -> None:
    shorter, longer = sorted((a, b))
    low, high = sorted((t1, t2))
    if processing_mode(shorter, t1) is ProcessingMode.QUEUED:
        assert processing_mode(longer, t1) is ProcessingMode.QUEUED
    if processing_mode(a, low) is ProcessingMode.INLINE:
        assert processing_mode(a, high) is ProcessingMode.INLINE
    assert processing_mode(t1, t1) is ProcessingMode.INLINE, "the threshold itself: inline"
    assert processing_mode(0, t1) is ProcessingMode.INLINE
    assert processing_mode(t1 + 1, t1) is ProcessingMode.QUEUED


word_lists = st.lists(st.text(alphabet="abcё", min_size=1), max_size=60)
word_thresholds = st.integers(0, 120)


@given(word_lists, st.integers(0, 60), word_thresholds, word_thresholds)
def test_llm_formatting_goes_with_more_words_and_a_lower_threshold(
    words: list[str], cut: int, t1: int, t2: int
) -> None:
    text, fewer = " ".join(words), " ".join(words[:cut])
    low, high = sorted((t1, t2))
    if needs_llm_formatting(fewer, t1):
        assert needs_llm_formatting(text, t1), "more words never go unformatted"
    if needs_llm_formatting(text, high):
        assert needs_llm_formatting(text, low), "a lower threshold never formats less"
    assert needs_llm_formatting(text, 0)
    assert not needs_llm_formatting(text, len(text) + 1), "never more words than characters"


@given(word_lists, word_thresholds)
def test_llm_formatting_counts_words_not_spacing(words: list[str], threshold: int) -> None:
    spaced = needs_llm_formatting(" ".join(words), threshold)
    assert needs_llm_formatting(" \n\t ".join(words) + "\n", threshold) == spaced


def test_llm_formatting_default_threshold_is_150_words() -> None:
    assert not needs_llm_formatting("word " * 149)
    assert needs_llm_formatting("word " * 150)


@given(st.text(min_size=1), st.text(), st.text(alphabet="abc. ", min_size=1))
def test_plausible_formatting_never_rejects_more_and_never_accepts_nothing(
    original: str, out: str, more: str
) -> None:
    assume(original.strip())
    assert is_plausible_formatting(original, original), "the text as it was is plausible"
    if is_plausible_formatting(original, out):
        assert is_plausible_formatting(original, out + more), "longer output is plausible too"
        assert is_plausible_formatting(original[: len(original) // 2], out), "shorter input"
    assert not is_plausible_formatting(original, " \n" * len(original)), "blank is not"
    padded = is_plausible_formatting(f"  {original}\n", f"\n{out} ")
    assert padded == is_plausible_formatting(original, out), "surrounding spaces do not count"


def test_plausible_formatting_rejects_output_under_40_percent() -> None:
    assert is_plausible_formatting("x" * 100, "y" * 40)
    assert not is_plausible_formatting("x" * 100, "y" * 39)


envelopes = st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=4000)


@given(
    st.floats(min_value=0.1, max_value=4 * 3600),
    st.floats(min_value=5, max_value=600),
    st.none() | envelopes,
)
def test_chunk_plan_covers_the_audio_contiguously_within_the_limit(
    duration: float, max_chunk: float, values: list[float] | None
) -> None:
    envelope = EnergyEnvelope(0.1, values) if values is not None else None
    spans = plan_chunks(duration, max_chunk, envelope)
    assert spans[0].start == 0 and spans[-1].end == duration
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    assert all(0 < s.length <= max_chunk + 1e-9 for s in spans)
    # moving cuts to quiet points may cost chunks, but at most one per window of slack
    assert len(spans) <= math.ceil(duration / (max_chunk - min(10, max_chunk / 2))) + 1


def test_chunk_plan_without_envelope_cuts_at_the_limit() -> None:
    spans = plan_chunks(400, 150)
    assert [(s.start, s.end) for s in spans] == [(0, 150), (150, 300), (300, 400)]


def test_chunk_cut_moves_to_the_quietest_point_near_the_limit() -> None:
    loud = [1.0] * 3000
    loud[1450] = 0.0  # silence at 145 s, inside the 10 s window before the 150 s limit
    loud[1000] = 0.0  # silence at 100 s is too far from the limit to matter
    spans = plan_chunks(300, 150, EnergyEnvelope(0.1, loud))
    assert spans[0].end == pytest.approx(145.0)
    assert spans[1].start == spans[0].end


def test_short_audio_is_one_chunk_and_nothing_is_nothing() -> None:
    assert len(plan_chunks(149, 150)) == 1
    assert plan_chunks(0, 150) == ()
