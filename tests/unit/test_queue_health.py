"""When the job queue needs the owner."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.queue_health import queue_stalled

ages = st.floats(min_value=0, max_value=1e6, allow_nan=False)
thresholds = st.floats(min_value=1, max_value=1e5, allow_nan=False)


@given(ages, thresholds)
def test_a_queue_is_stalled_exactly_when_its_oldest_job_waited_past_the_threshold(
    age: float, threshold: float
) -> None:
    assert queue_stalled(age, threshold) is (age > threshold)


@given(ages, ages, thresholds)
def test_waiting_longer_never_makes_a_stalled_queue_healthy(
    age: float, more: float, threshold: float
) -> None:
    if queue_stalled(age, threshold):
        assert queue_stalled(age + more, threshold)


@given(thresholds)
def test_an_unknown_age_is_never_stalled(threshold: float) -> None:
    assert not queue_stalled(None, threshold)
