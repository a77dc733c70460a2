"""Acknowledgements first: the webhook's background work waits for a gap in the requests.

Why this exists: the webhook answers Telegram as soon as an update is stored, and handles
it afterwards on the same event loop. Handling a voice note costs ten times the CPU of
acknowledging it (Bot API calls, a dozen storage round trips), so when both compete
every acknowledgement waits behind work that nobody is waiting for yet: under a burst of
5,000 updates the answers took 360 ms (p50) and Telegram's 40 connections stalled. Here
work starts only when no request is in flight and none arrived for ``gap_seconds``; at
ordinary rates such gaps come every few milliseconds, so work starts at once. Under a
sustained burst it waits, but never longer than ``max_wait_seconds`` after its update
arrived: an overloaded bot then shares the loop again and answers Telegram more slowly,
which is Telegram's cue to deliver more slowly (backpressure), while nothing stored is lost.
The inbox bounds how many updates are handled at a time, which also keeps the HTTP pool
and the storage thread from being flooded.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

GAP_SECONDS = 0.002
MAX_WAIT_SECONDS = 2.0


class IngressActivity:
    """Requests in flight and when the last one began or ended."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._in_flight = 0
        self._last = -math.inf

    def began(self) -> None:
        self._in_flight += 1
        self._last = self._clock()

    def ended(self) -> None:
        self._in_flight -= 1
        self._last = self._clock()

    def quiet_for(self) -> float:
        """Seconds without any request; 0 while one is in flight."""
        if self._in_flight > 0:
            return 0.0
        return self._clock() - self._last


def wait_before_work(quiet_for: float, waited: float, gap: float, max_wait: float) -> float:
    """How much longer work that has waited ``waited`` seconds should wait; 0 = start now."""
    if quiet_for >= gap or waited >= max_wait:
        return 0.0
    return min(gap - quiet_for, max_wait - waited)


class AckFirstAdmission:
    """Lets background work start once there is a gap in the requests (or it waited long
    enough). How many run at once is the caller's bound, not this gate's."""

    def __init__(
        self,
        activity: IngressActivity,
        *,
        gap_seconds: float = GAP_SECONDS,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._activity = activity
        self._turn = asyncio.Lock()  # one waiter watches the requests; the rest queue
        self._gap = gap_seconds
        self._max_wait = max_wait_seconds
        self._clock = clock

    async def wait_turn(self, arrived_at: float) -> None:
        """Return when work whose update arrived at ``arrived_at`` (this gate's clock)
        may start."""
        async with self._turn:
            while True:
                delay = wait_before_work(
                    self._activity.quiet_for(),
                    self._clock() - arrived_at,
                    self._gap,
                    self._max_wait,
                )
                if delay <= 0:
                    return
                await asyncio.sleep(delay)
