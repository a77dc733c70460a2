"""Use case: the Stop button under a job's status message.

Why this exists: a user may stop a recording sent by mistake. Only the job's sender may.
A job not started yet (accepted, queued) ends at once, ``cancelled``, its reservation
released whole: its queue message then finds it finished and is dropped unprocessed. A
running job is marked ``stopping`` (a version-checked save, retried on a conflict with
its worker's lease renewal); its worker sees the mark between chunks or at its next
poll, whichever process it runs in, and ends it (``ProcessJobHandler``): the chunks
recognized are delivered and charged, the rest abandoned. A job already finished is
left alone. When the job runs in this process, its worker is told at once
(``StopSignals``).
"""

from __future__ import annotations

import logging
from enum import StrEnum

from application.bus import Outbox
from application.commands import StopJob
from application.errors import ConcurrentUpdate, DeliveryFailed, StorageError
from application.minutes import MinutesBook
from application.notices import Notice, NoticeReason
from application.ports import Clock, JobRepository, Messenger
from application.stop_signals import StopSignals
from domain.jobs import JobStatus, StopOutcome

log = logging.getLogger(__name__)


class StopResult(StrEnum):
    CANCELLED = "cancelled"  # had not started: ended, nothing charged
    STOPPING = "stopping"  # runs: its worker delivers what was recognized
    FINISHED = "finished"  # ended before the tap: nothing changes
    NOT_YOURS = "not_yours"  # pressed by someone other than the sender
    UNKNOWN = "unknown"  # no such job


class StopJobHandler:
    def __init__(
        self,
        *,
        jobs: JobRepository,
        minutes: MinutesBook,
        messenger: Messenger,
        outbox: Outbox,
        clock: Clock,
        signals: StopSignals,
        attempts: int = 10,
    ) -> None:
        self._jobs = jobs
        self._minutes = minutes
        self._messenger = messenger
        self._outbox = outbox
        self._clock = clock
        self._signals = signals
        self._attempts = attempts

    async def __call__(self, command: StopJob) -> StopResult:
        """Raises StorageError when the stop could not be recorded (the tap is retried)."""
        for _ in range(self._attempts):
            job = await self._jobs.get(command.job_id)
            if job is None:
                return StopResult.UNKNOWN
            if job.user_id != command.user_id:
                log.info("user %s pressed Stop of job %s", command.user_id, job.job_id)
                return StopResult.NOT_YOURS
            if job.status is JobStatus.STOPPING:
                self._signals.signal(job.job_id)
                return StopResult.STOPPING
            outcome = job.request_stop(self._clock.now())
            if outcome is StopOutcome.FINISHED:
                return StopResult.FINISHED
            try:
                await self._jobs.save(job)
            except ConcurrentUpdate:
                continue  # its worker renewed the lease, or took it: read it again
            self._outbox.collect(job)
            break
        else:
            raise StorageError(f"job {command.job_id} is too busy to stop", transient=True)
        if outcome is StopOutcome.STOPPING:
            self._signals.signal(job.job_id)
            return StopResult.STOPPING
        await self._minutes.settle_part(job.user_id, job.reservation_id, 0)
        try:
            await self._messenger.notify(job, Notice(NoticeReason.STOPPED, charged_minutes=0))
        except DeliveryFailed:
            log.info("could not tell the owner of job %s it stopped", job.job_id)
        return StopResult.CANCELLED
