"""A per-user sliding-window rate limit, as a pure value: no clock, no storage.

The caller passes the time and keeps the returned window, so the rule is testable with
hypothesis and the same logic serves any process that holds the state.

Two ways to apply it: ``admit`` refuses what is over the limit (the owner's alerts), and
``defer`` (users' notes) accepts it later instead, spreading a burst over consecutive
windows, ``max_events`` a window: what is deferred starts after the work others sent in
the meantime, so one user's burst never pushes everyone else back.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class RateLimit:
    max_events: int = attrs.field(default=10, validator=attrs.validators.ge(1))
    window_seconds: float = attrs.field(default=60.0, validator=attrs.validators.gt(0))
    # ``defer`` refuses what would start further ahead than this (a burst of 30 notes at
    # the default 10 a minute): past it, the user is asked to send again. Kept under the
    # stale delay (JOB_LEASE_SECONDS + QUEUE_VISIBILITY_SECONDS, 180 s by default), past
    # which the sweep takes a queued job still waiting for its delayed message for one
    # whose message was lost and sends another (harmless, but no longer deferred).
    max_deferral_seconds: float = attrs.field(default=120.0, validator=attrs.validators.ge(0))


@attrs.frozen
class Window:
    """Times of the accepted events still inside the window, oldest first (with
    ``defer``, also the start times scheduled ahead)."""

    times: tuple[float, ...] = ()

    def admit(self, now: float, limit: RateLimit) -> tuple[bool, Window, float]:
        """Whether an event at ``now`` is allowed, the window after it, and how many seconds
        to wait before the next one would be allowed (0 when it was)."""
        recent = tuple(t for t in self.times if _inside(t, now, limit))
        if len(recent) < limit.max_events:
            return True, Window((*recent, now)), 0.0
        retry_in = recent[0] + limit.window_seconds - now
        return False, Window(recent), min(limit.window_seconds, max(0.0, retry_in))

    def defer(self, now: float, limit: RateLimit) -> tuple[bool, float, Window]:
        """When an event arriving at ``now`` may start: whether it is accepted, the
        seconds to wait before it starts (0 under the limit), and the window after it.

        Over the limit it starts as soon as no ``window_seconds`` span would hold more
        than ``max_events`` starts, never before an event accepted earlier. Refused (the
        window unchanged, the wait being how long until it would be accepted) when that
        is more than ``max_deferral_seconds`` away."""
        kept = tuple(t for t in self.times if _inside(t, now, limit))
        start = max((now, *kept[-1:]))
        if len(kept) >= limit.max_events:
            start = max(start, kept[-limit.max_events] + limit.window_seconds)
        wait = start - now
        if wait > limit.max_deferral_seconds:
            return False, wait - limit.max_deferral_seconds, Window(kept)
        return True, wait, Window((*kept, start))


def _inside(time: float, now: float, limit: RateLimit) -> bool:
    """An event at ``time`` still counts at ``now``: its window ends after ``now``. Written
    as the very sum ``defer`` starts a deferred event at, so that in floating point an
    event deferred to the end of a window and one arriving there agree to the last bit."""
    return time + limit.window_seconds > now
