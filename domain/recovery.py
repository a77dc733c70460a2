"""Decisions about jobs that did not run to the end: left behind, or waiting out an outage.

Why this exists: a process killed mid-job leaves an unfinished job that only another
process can finish, and a recognizer that is down for a while must make jobs wait, not
fail. Whether a job met again is someone's live work, a job waiting for its queue message,
or stuck, and how long a job waits for the provider, are pure rules; the use cases apply
them.
"""

from __future__ import annotations

from enum import StrEnum

from domain.jobs import RUNNING_STATUSES, JobStatus, VoiceJob

FIRST_OUTAGE_DELAY_SECONDS = 15.0
MAX_OUTAGE_DELAY_SECONDS = 120.0


class JobStanding(StrEnum):
    """Where an unfinished job stands when something meets it again (a replayed update)."""

    FINISHED = "finished"  # delivered, failed or silent: nothing to do
    LIVE = "live"  # a worker holds its lease: someone is on it
    WAITING = "waiting"  # its queue message is due: the queue will bring it back
    STUCK = "stuck"  # nobody is on it and nothing will bring it back: resume it


def standing(job: VoiceJob, now: float, stale_after_seconds: float) -> JobStanding:
    """A job is stuck when it is unfinished, no lease on it is live, and either

    - it is still ``accepted``: acceptance moves a job on in the same call that stored it,
      so a job met again in that state was abandoned by a process that died;
    - it is ``processing`` (or ``stopping``) under a lease that ran out: its worker died
      mid-job;
    - or nothing touched it for ``stale_after_seconds`` (a queued job, or one that gave its
      lease back for a retry, whose queue message should have come back long ago).

    Otherwise an unfinished job without a live lease is waiting for its queue message.
    """
    if job.status.is_finished:
        return JobStanding.FINISHED
    if job.holds_lease(now):
        return JobStanding.LIVE
    if job.status is JobStatus.ACCEPTED:
        return JobStanding.STUCK
    if job.status in RUNNING_STATUSES and job.lease_expires_at is not None:
        return JobStanding.STUCK
    if job.updated_at <= now - stale_after_seconds:
        return JobStanding.STUCK
    return JobStanding.WAITING


def outage_delay(
    outage_since: float | None,
    now: float,
    limit_seconds: float,
    first_delay_seconds: float = FIRST_OUTAGE_DELAY_SECONDS,
    max_delay_seconds: float = MAX_OUTAGE_DELAY_SECONDS,
) -> float | None:
    """How long a job whose recognizer is unavailable waits before its next try, or
    ``None``: the outage has lasted ``limit_seconds`` (since ``outage_since``; a job meeting
    its first outage starts counting ``now``), give up.

    The delay grows with the outage (about as long as it has lasted, from
    ``first_delay_seconds`` up to ``max_delay_seconds``), and the last try falls exactly at
    the limit, never after it.
    """
    since = now if outage_since is None else min(outage_since, now)
    elapsed = now - since
    if elapsed >= limit_seconds:
        return None
    return min(max(first_delay_seconds, elapsed), max_delay_seconds, limit_seconds - elapsed)
