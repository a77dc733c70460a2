"""The sliding-window rate limit."""

from __future__ import annotations

from hypothesis import given
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
