"""Use case: transcripts are kept ``TRANSCRIPT_RETENTION_DAYS`` after their job finished.

Why this exists: nobody should find their words stored years later. Every process that
runs jobs sweeps (``queue_consumer.sweep_once``, beside the stuck-job sweep; Function
Compute on its timer); this part of the sweep erases the finished jobs past the retention
(``domain.retention``), at most once an hour per process (it reads every job in
Tablestore), and in bounded rounds. The transcript cache by file then misses: the same
file sent again is recognized anew. ``0`` days keeps everything.
"""

from __future__ import annotations

import logging

from application.commands import SweepExpiredTranscripts
from application.ports import Clock, UserDataEraser
from domain.retention import expired, retention_cutoff

log = logging.getLogger(__name__)

EVERY_SECONDS = 3600.0
BATCH = 500
MAX_ROUNDS = 20


class TranscriptRetention:
    def __init__(
        self,
        *,
        eraser: UserDataEraser,
        clock: Clock,
        retention_days: int,
        every_seconds: float = EVERY_SECONDS,
    ) -> None:
        self._eraser = eraser
        self._clock = clock
        self._retention_days = retention_days
        self._every_seconds = every_seconds
        self._next_at: float | None = None

    async def __call__(self, command: SweepExpiredTranscripts) -> int:
        """How many jobs were erased (0 too when it is not yet time to look)."""
        now = self._clock.now()
        cutoff = retention_cutoff(now, self._retention_days)
        if cutoff is None or (self._next_at is not None and now < self._next_at):
            return 0
        erased = 0
        for _ in range(MAX_ROUNDS):
            old = await self._eraser.finished_before(cutoff, BATCH)
            due = [job for job in old if expired(job, now, self._retention_days)]
            gone = await self._eraser.erase_jobs(due) if due else 0
            erased += gone
            if gone == 0 or len(old) < BATCH:
                break
        self._next_at = now + self._every_seconds  # after success: a failure retries soon
        if erased:
            log.info("retention: %d job(s) past %d days erased", erased, self._retention_days)
        return erased
