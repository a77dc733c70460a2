"""Use case for the owner (``OWNER_ID``): fail stuck jobs, releasing exactly what each one
reserved. It ends each job through ``ProcessJobHandler.give_up``, the one give-up path
the sweeper uses too.
"""

from __future__ import annotations

import attrs

from application.commands import FlushStuckJobs
from application.handlers.process_job import ProcessJobHandler
from application.ports import Clock, JobRepository

FLUSH_BATCH = 1000


@attrs.frozen
class FlushOutcome:
    jobs: int
    minutes_released: int


class StuckJobFlush:
    def __init__(self, *, jobs: JobRepository, process: ProcessJobHandler, clock: Clock) -> None:
        self._jobs = jobs
        self._process = process
        self._clock = clock

    async def __call__(self, command: FlushStuckJobs) -> FlushOutcome:
        now = self._clock.now()
        flushed = released = 0
        for job in await self._jobs.list_unfinished(now - command.older_than_seconds, FLUSH_BATCH):
            report = await self._process.give_up(
                job.job_id, "stuck; flushed by the owner", by_owner=True
            )
            flushed += 1
            released += report.released_minutes
        return FlushOutcome(flushed, released)
