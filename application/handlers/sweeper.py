"""Use case: no job is left unfinished forever.

A job queued or in processing whose claim ran out long ago lost its message or its worker:
it is put on the queue again (a duplicate message is harmless: a finished or claimed job
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
    ) -> None:
        self._jobs = jobs
        self._queue = queue
        self._process = process
        self._clock = clock
        self._max_attempts = max_attempts

    async def __call__(self, command: SweepStuckJobs) -> SweepOutcome:
        now = self._clock.now()
        requeued = failed = 0
        for job in await self._jobs.list_unfinished(now - command.older_than_seconds, 500):
            if job.holds_lease(now):
                continue  # a live worker is on it
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
