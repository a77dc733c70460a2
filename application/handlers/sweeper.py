"""Use case: no job is left unfinished forever.

A job in processing whose lease ran out lost its worker (a live worker renews its lease),
and a queued one untouched long after its message was due lost the message: either is put
on the queue again (a duplicate message is harmless: a finished or claimed job
ignores it). A job that never got past acceptance, or has used up its attempts, is failed
and exactly its reserved minutes released.
"""

from __future__ import annotations

import logging

import attrs

from application.commands import SweepStuckJobs
from application.errors import DeliveryFailed
from application.handlers.process_job import ProcessJobHandler
from application.ports import Clock, JobQueue, JobRepository
from domain.jobs import JobStatus
from domain.recovery import JobStanding, standing

log = logging.getLogger(__name__)


@attrs.frozen
class SweepOutcome:
    requeued: int
    failed: int


class StuckJobSweeper:
    def __init__(
        self,
        *,
        jobs: JobRepository,
        queue: JobQueue,
        process: ProcessJobHandler,
        clock: Clock,
        max_attempts: int,
        lease_seconds: float | None = None,
    ) -> None:
        """``lease_seconds``: a job in processing whose lease (renewed while its worker
        lives) ran out is swept as soon as it ran out, not after the stale delay."""
        self._jobs = jobs
        self._queue = queue
        self._process = process
        self._clock = clock
        self._max_attempts = max_attempts
        self._lease_seconds = lease_seconds

    async def __call__(self, command: SweepStuckJobs) -> SweepOutcome:
        now = self._clock.now()
        requeued = failed = 0
        stale = command.older_than_seconds
        recent = stale if self._lease_seconds is None else min(stale, self._lease_seconds)
        for job in await self._jobs.list_unfinished(now - recent, 500):
            if standing(job, now, stale) is not JobStanding.STUCK:
                continue  # a live worker is on it, or its queue message is due
            if job.status is JobStatus.ACCEPTED and job.updated_at > now - stale:
                continue  # the replay of its update resumes it first
            if job.status is JobStatus.ACCEPTED or job.attempts >= self._max_attempts:
                try:
                    await self._process.give_up(job.job_id)
                except DeliveryFailed:
                    log.info("swept job %s failed; its owner could not be told", job.job_id)
                failed += 1
            else:
                await self._queue.enqueue(job.job_id)
                requeued += 1
        if requeued or failed:
            log.warning("sweeper: %d job(s) queued again, %d failed", requeued, failed)
        return SweepOutcome(requeued, failed)
