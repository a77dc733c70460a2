"""Metadata may refuse a file as too long only when its claim is far beyond the limit and
its size agrees; anything else is measured first (#13)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.policies import (
    DENSEST_AUDIO_BYTES_PER_SECOND,
    FAR_BEYOND_LIMIT,
    too_long_unmeasured,
)

LIMIT = 4 * 3600.0
seconds = st.floats(min_value=0, max_value=1e7, allow_nan=False)
sizes = st.integers(min_value=1, max_value=10**12)


@given(declared=seconds, size=sizes, limit=st.floats(min_value=1, max_value=1e5))
def test_metadata_refuses_only_a_far_claim_the_size_agrees_with(
    declared: float, size: int, limit: float
) -> None:
    if too_long_unmeasured(declared, size, limit):
        assert declared > FAR_BEYOND_LIMIT * limit, "the claim is far beyond the limit"
        assert size / DENSEST_AUDIO_BYTES_PER_SECOND > limit, "the bytes cannot last less"


@given(declared=seconds, seconds_of_bytes=st.floats(min_value=0.1, max_value=LIMIT))
def test_a_file_whose_bytes_could_fit_the_limit_is_always_measured(
    declared: float, seconds_of_bytes: float
) -> None:
    size = max(1, int(seconds_of_bytes * DENSEST_AUDIO_BYTES_PER_SECOND))
    assert not too_long_unmeasured(declared, size, LIMIT)


def test_a_30_second_file_claiming_20000_seconds_is_measured() -> None:
    assert not too_long_unmeasured(20_000.0, 30 * 2_000, LIMIT)
    assert not too_long_unmeasured(20_000.0, None, LIMIT), "no size: measured"
    assert too_long_unmeasured(10 * LIMIT, int(2 * LIMIT * DENSEST_AUDIO_BYTES_PER_SECOND), LIMIT)
