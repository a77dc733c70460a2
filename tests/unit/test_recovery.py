"""Properties of the recovery decisions: when a job met again is stuck, and how long a
job waits for an unavailable recognizer (``domain/recovery.py``)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from domain.jobs import RUNNING_STATUSES, AudioSource, JobStatus, MediaKind, UserStyle, VoiceJob
from domain.recovery import JobStanding, outage_delay, standing

T0 = 1_700_000_000.0
seconds = st.floats(0, 10_000, allow_nan=False)


def job_in(status: JobStatus, updated_at: float, lease: float | None) -> VoiceJob:
    source = AudioSource(MediaKind.VOICE, "f", "f", 30.0)
    return VoiceJob("j", 1, 1, source, 30.0, 1, UserStyle(), T0, updated_at, status,
                    lease_expires_at=lease)  # fmt: skip


@given(
    status=st.sampled_from(JobStatus),
    age=seconds,
    lease=st.none() | st.floats(-10_000, 10_000, allow_nan=False),
    stale=st.floats(1, 5_000, allow_nan=False),
)
@example(status=JobStatus.PROCESSING, age=0.0, lease=1.6152056662974806e-120, stale=1.0)
def test_a_job_is_stuck_exactly_when_unfinished_unleased_and_abandoned_or_stale(
    status: JobStatus, age: float, lease: float | None, stale: float
) -> None:
    now = T0 + 20_000
    job = job_in(status, now - age, None if lease is None else now + lease)
    # Held while the stored expiry is after now (a lease too small to move ``now`` in
    # floating point, 1e-120 s say, has already run out).
    held = status in RUNNING_STATUSES and lease is not None and now + lease > now
    expected_stuck = (
        not status.is_finished
        and not held
        and (
            status is JobStatus.ACCEPTED
            or (status in RUNNING_STATUSES and lease is not None)
            or age >= stale
        )
    )
    result = standing(job, now, stale)
    assert (result is JobStanding.STUCK) == expected_stuck
    assert (result is JobStanding.FINISHED) == status.is_finished
    assert (result is JobStanding.LIVE) == (held and not status.is_finished)


@given(lease=st.floats(10, 3_600, allow_nan=False), later=seconds)
def test_a_claimed_job_is_live_until_its_lease_runs_out_then_stuck(
    lease: float, later: float
) -> None:
    job = job_in(JobStatus.QUEUED, T0, None)
    job.start(T0, lease)
    result = standing(job, T0 + later, stale_after_seconds=1e9)
    assert result is (JobStanding.LIVE if later < lease else JobStanding.STUCK)


@given(since=st.none() | seconds, elapsed=seconds, limit=st.floats(0, 7_200, allow_nan=False))
def test_an_outage_is_waited_out_until_the_limit_and_never_past_it(
    since: float | None, elapsed: float, limit: float
) -> None:
    now = T0 + 10_000
    outage_since = None if since is None else now - elapsed
    delay = outage_delay(outage_since, now, limit)
    waited = 0.0 if outage_since is None else now - outage_since
    if waited >= limit:
        assert delay is None
    else:
        assert delay is not None
        assert 0 < delay <= 120.0
        assert waited + delay <= limit + 1e-6, "the last try falls at the limit, not after"


@given(first=seconds, second=seconds, limit=st.floats(20_000, 40_000, allow_nan=False))
def test_outage_delays_grow_with_the_outage(first: float, second: float, limit: float) -> None:
    shorter, longer = sorted((first, second))
    now = T0 + 30_000
    early = outage_delay(now - shorter, now, limit)
    late = outage_delay(now - longer, now, limit)
    assert early is not None and late is not None
    assert early <= late
    assert early >= min(15.0, limit)


@given(elapsed=seconds, limit=st.floats(20_000, 40_000, allow_nan=False))
def test_an_outage_is_never_waited_longer_than_it_has_lasted(elapsed: float, limit: float) -> None:
    """A recognizer back after a blip is used again soon: the wait is at most as long as
    the outage has lasted so far, or the first 15 s when it has only just begun."""
    now = T0 + 30_000
    delay = outage_delay(now - elapsed, now, limit)
    assert delay is not None
    assert delay <= max(15.0, elapsed)
