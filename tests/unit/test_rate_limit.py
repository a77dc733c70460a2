"""The sliding-window rate limit."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from domain.rate_limit import RateLimit, Window

gaps = st.lists(st.floats(min_value=0, max_value=30, allow_nan=False), max_size=80)


@given(gaps, st.integers(1, 10), st.floats(min_value=1, max_value=120))
def test_never_more_than_the_limit_inside_any_window(
    steps: list[float], max_events: int, window_seconds: float
) -> None:
    limit = RateLimit(max_events, window_seconds)
    window, now, accepted = Window(), 0.0, []
    for step in steps:
        now += step
        allowed, window, retry_in = window.admit(now, limit)
        if allowed:
            accepted.append(now)
            assert retry_in == 0
        else:
            assert 0 <= retry_in <= window_seconds
    for start in accepted:
        inside = [t for t in accepted if start <= t < start + window_seconds]
        assert len(inside) <= max_events


def test_a_refused_user_may_come_back_after_the_advertised_wait() -> None:
    limit = RateLimit(2, 60)
    window = Window()
    for now in (0.0, 10.0):
        allowed, window, _ = window.admit(now, limit)
        assert allowed
    allowed, window, retry_in = window.admit(20.0, limit)
    assert not allowed and retry_in == 40.0
    allowed, window, _ = window.admit(20.0 + retry_in, limit)
    assert allowed


def _deferred(steps: list[float], limit: RateLimit) -> list[tuple[float, bool, float]]:
    """Each arrival's start (its arrival time when refused), whether ``defer`` accepted
    it, and its wait."""
    window, now, seen = Window(), 0.0, []
    for step in steps:
        now += step
        accepted, wait, window = window.defer(now, limit)
        seen.append((window.times[-1] if accepted else now, accepted, wait))
    return seen


limits = st.builds(
    RateLimit,
    st.integers(1, 10),
    st.floats(min_value=1, max_value=120),
    st.floats(min_value=0, max_value=600),
)


@given(gaps, limits)
def test_deferred_starts_never_crowd_a_window_and_keep_their_order(
    steps: list[float], limit: RateLimit
) -> None:
    starts = [start for start, accepted, _ in _deferred(steps, limit) if accepted]
    assert starts == sorted(starts)
    for first in starts:
        inside = [t for t in starts if first <= t < first + limit.window_seconds]
        assert len(inside) <= limit.max_events


@given(gaps, limits)
def test_a_deferral_is_bounded_and_a_refusal_says_when_to_come_back(
    steps: list[float], limit: RateLimit
) -> None:
    for _, accepted, wait in _deferred(steps, limit):
        if accepted:
            assert 0 <= wait <= limit.max_deferral_seconds
        else:
            assert wait > 0


@given(gaps, st.integers(1, 10), st.floats(min_value=1, max_value=120))
# Found by the `thorough` profile: an arrival exactly a window after the last start, where
# ``now - t < window`` and ``t + window <= now`` disagreed in floating point.
@example(steps=[11.0, 5.02198712877165], max_events=1, window_seconds=5.02198712877165)
def test_under_the_limit_defer_starts_at_once_exactly_when_admit_allows(
    steps: list[float], max_events: int, window_seconds: float
) -> None:
    """With no room to defer, ``defer`` is ``admit``: the same events start at once."""
    limit = RateLimit(max_events, window_seconds, max_deferral_seconds=0)
    admitted, window, now = [], Window(), 0.0
    for step in steps:
        now += step
        allowed, window, _ = window.admit(now, limit)
        admitted.append(allowed)
    assert [accepted for _, accepted, _ in _deferred(steps, limit)] == admitted


@given(st.integers(1, 10), st.integers(1, 60))
def test_a_burst_is_spread_one_window_per_limit(max_events: int, burst: int) -> None:
    limit = RateLimit(max_events, 60, max_deferral_seconds=3600)
    waits = [wait for _, _, wait in _deferred([0.0] * burst, limit)]
    assert waits == [60.0 * (i // max_events) for i in range(burst)]


def test_past_the_longest_deferral_the_note_is_refused_and_the_window_kept() -> None:
    limit = RateLimit(1, 60, max_deferral_seconds=60)
    window = Window()
    for expected in (0.0, 60.0):
        accepted, wait, window = window.defer(0.0, limit)
        assert accepted and wait == expected
    accepted, wait, after = window.defer(0.0, limit)
    assert not accepted and wait == 60.0 and after == window
