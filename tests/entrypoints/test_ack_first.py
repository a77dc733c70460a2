"""The webhook's background work yields to acknowledgements, and never waits forever."""

from __future__ import annotations

import asyncio
import time

from hypothesis import given
from hypothesis import strategies as st

from entrypoints.http.ack_first import AckFirstAdmission, IngressActivity, wait_before_work

seconds = st.floats(min_value=0, max_value=1e4, allow_nan=False)


@given(quiet=seconds, waited=seconds, gap=seconds, max_wait=seconds)
def test_work_waits_only_for_a_gap_and_at_most_max_wait(
    quiet: float, waited: float, gap: float, max_wait: float
) -> None:
    delay = wait_before_work(quiet, waited, gap, max_wait)
    assert delay >= 0
    if quiet >= gap or waited >= max_wait:
        assert delay == 0, "a gap, or waiting long enough, lets the work start now"
    else:
        assert 0 < delay <= gap - quiet, "no longer than the rest of the gap"
        assert delay <= max_wait - waited, "nor past the longest wait"


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_activity_is_busy_while_a_request_is_in_flight_and_counts_from_the_last() -> None:
    clock = ManualClock()
    activity = IngressActivity(clock)
    assert activity.quiet_for() > 1e9, "never busy yet"
    activity.began()
    activity.began()
    clock.now += 5
    assert activity.quiet_for() == 0
    activity.ended()
    assert activity.quiet_for() == 0, "one still in flight"
    activity.ended()
    clock.now += 0.25
    assert activity.quiet_for() == 0.25


async def test_work_starts_at_once_when_requests_are_quiet() -> None:
    activity = IngressActivity()
    gate = AckFirstAdmission(activity, gap_seconds=0.001, max_wait_seconds=60)
    await asyncio.sleep(0.01)
    await asyncio.wait_for(gate.wait_turn(time.monotonic()), timeout=5)


async def test_work_waits_while_requests_keep_coming_then_starts_after_max_wait() -> None:
    activity = IngressActivity()
    gate = AckFirstAdmission(activity, gap_seconds=0.05, max_wait_seconds=0.3)
    activity.began()  # a request that never ends: the ingress is busy throughout
    arrived = time.monotonic()
    waiting = asyncio.create_task(gate.wait_turn(arrived))
    await asyncio.sleep(0.15)
    assert not waiting.done(), "held back while requests are in flight"
    await asyncio.wait_for(waiting, timeout=5)
    assert time.monotonic() - arrived >= 0.3


async def test_work_starts_soon_after_the_burst_ends() -> None:
    activity = IngressActivity()
    gate = AckFirstAdmission(activity, gap_seconds=0.02, max_wait_seconds=60)
    activity.began()
    waiting = asyncio.create_task(gate.wait_turn(time.monotonic()))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    activity.ended()
    await asyncio.wait_for(waiting, timeout=5)
