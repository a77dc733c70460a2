"""How long a user's transcripts are kept, and which of their jobs may be erased.

Why this exists: a transcript is the user's words. It is kept for
``TRANSCRIPT_RETENTION_DAYS`` after the job finished (0 keeps it for good) and erased at
once on the user's ``/forget``. Only a finished job whose minutes are settled is ever
erased: a job still at work would lose its record half-way, and a delivered one whose
reservation is still held (its minutes are committed right after the delivery is saved)
must stay until that commit, or the reserved minutes would never come back. Payments and
the minutes account are not transcripts: they are kept (the law and refunds need them).
"""

from __future__ import annotations

from collections.abc import Collection

from domain.jobs import JobStatus, VoiceJob

DAY_SECONDS = 24 * 3600.0


def retention_cutoff(now: float, retention_days: int) -> float | None:
    """Jobs finished before this moment are past their retention; ``None`` when transcripts
    are kept forever (``retention_days`` 0)."""
    if retention_days < 0:
        raise ValueError(f"retention must be 0 (forever) or more days, got {retention_days}")
    if retention_days == 0:
        return None
    return now - retention_days * DAY_SECONDS


def may_erase(job: VoiceJob, held_reservations: Collection[str]) -> bool:
    """Whether the job's record may go: finished, and its minutes settled."""
    return job.status.is_finished and job.reservation_id not in held_reservations


def expired(job: VoiceJob, now: float, retention_days: int) -> bool:
    """A finished job whose last change is older than the retention allows."""
    cutoff = retention_cutoff(now, retention_days)
    return cutoff is not None and job.status.is_finished and job.updated_at < cutoff


def has_transcript(job: VoiceJob) -> bool:
    """A job the user got a text from (what ``/forget`` counts as a transcript)."""
    return job.status is JobStatus.DELIVERED
