"""A per-user sliding-window rate limit, as a pure value: no clock, no storage.

The caller passes the time and keeps the returned window, so the rule is testable with
hypothesis and the same logic serves any process that holds the state.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class RateLimit:
    max_events: int = attrs.field(default=10, validator=attrs.validators.ge(1))
    window_seconds: float = attrs.field(default=60.0, validator=attrs.validators.gt(0))


@attrs.frozen
class Window:
    """Times of the accepted events still inside the window, oldest first."""

    times: tuple[float, ...] = ()

    def admit(self, now: float, limit: RateLimit) -> tuple[bool, Window, float]:
        """Whether an event at ``now`` is allowed, the window after it, and how many seconds
        to wait before the next one would be allowed (0 when it was)."""
        recent = tuple(t for t in self.times if now - t < limit.window_seconds)
        if len(recent) < limit.max_events:
            return True, Window((*recent, now)), 0.0
        retry_in = recent[0] + limit.window_seconds - now
        return False, Window(recent), min(limit.window_seconds, max(0.0, retry_in))
