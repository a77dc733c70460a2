"""The in-process shortcut of the Stop button: tell a job running here at once.

Why this exists: a worker learns that its job was stopped by reading the job's stored
state between chunks and every few seconds (``ProcessJobHandler``), which works across
processes. When the Stop tap is handled by the process that runs the job, this registry
sets the job's stop event right away, so nothing more is sent even between two polls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class StopSignals:
    def __init__(self) -> None:
        self._running: dict[str, asyncio.Event] = {}

    @contextmanager
    def running(self, job_id: str, stop: asyncio.Event) -> Iterator[None]:
        """While the job is recognized here, ``signal(job_id)`` sets ``stop``."""
        self._running[job_id] = stop
        try:
            yield
        finally:
            if self._running.get(job_id) is stop:
                del self._running[job_id]

    def signal(self, job_id: str) -> bool:
        """Set the stop event of ``job_id`` if it runs in this process."""
        stop = self._running.get(job_id)
        if stop is None:
            return False
        stop.set()
        return True
