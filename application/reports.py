"""What the handlers answer: plain data about the outcome, for entrypoints to present."""

from __future__ import annotations

from enum import StrEnum

import attrs

from application.notices import Notice
from domain.jobs import JobStatus


@attrs.frozen
class JobReport:
    job_id: str
    status: JobStatus
    duration_seconds: float
    text: str | None = None
    language: str | None = None
    formatter: str | None = None
    notice: Notice | None = None
    timings: dict[str, float] = attrs.field(factory=dict)
    error: str | None = None
    released_minutes: int = 0  # a failed job's reservation given back


class Acceptance(StrEnum):
    PROCESSED = "processed"
    QUEUED = "queued"
    DUPLICATE = "duplicate"
    CACHED = "cached"
    REJECTED = "rejected"


@attrs.frozen
class AcceptOutcome:
    acceptance: Acceptance
    job_id: str | None = None
    notice: Notice | None = None
    report: JobReport | None = None
    queue_position: int | None = None


class RetryLater(Exception):
    """The job cannot go on now. With ``delay_seconds`` ``None`` (a transient failure, which
    counts as an attempt) its queue message is left to be delivered again; with a delay
    (another worker's live lease, a provider outage: waiting, not failing) the job is put
    back on the queue as a fresh message taken no sooner than that, so the wait uses up
    neither attempts nor deliveries."""

    def __init__(self, reason: str, *, delay_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.delay_seconds = delay_seconds
