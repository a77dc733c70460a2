"""An in-memory ``UserDataEraser``: erases from the in-memory job and settings stores."""

from __future__ import annotations

from collections.abc import Sequence

from domain.jobs import VoiceJob
from tests.application.in_memory import (
    InMemoryActionResults,
    InMemoryJobRepository,
    InMemoryPreferencesRepository,
    _stored,
)


class InMemoryUserDataEraser:
    """Erases from the in-memory job and settings stores it is given."""

    def __init__(
        self,
        jobs: InMemoryJobRepository,
        preferences: InMemoryPreferencesRepository,
        action_results: InMemoryActionResults | None = None,
    ) -> None:
        self._jobs = jobs
        self._preferences = preferences
        self._action_results = action_results

    async def erase_jobs(self, jobs: Sequence[VoiceJob]) -> int:
        erased = 0
        for job in jobs:
            stored = self._jobs.rows.get(job.job_id)
            if stored is not None and stored.status.is_finished:
                del self._jobs.rows[job.job_id]
                erased += 1
                if self._action_results is not None:  # the results of actions on it (#17)
                    rows = self._action_results.rows
                    for key in [k for k in rows if k[0] == job.job_id]:
                        del rows[key]
        return erased

    async def finished_before(self, updated_before: float, limit: int) -> Sequence[VoiceJob]:
        old = [
            _stored(j)
            for j in self._jobs.rows.values()
            if j.status.is_finished and j.updated_at < updated_before
        ]
        return sorted(old, key=lambda j: j.updated_at)[:limit]

    async def erase_settings(self, user_id: int) -> bool:
        return self._preferences.rows.pop(user_id, None) is not None
