"""Where the learned throughput of each recognizer is kept (the ETA's rate).

Why this exists: the ETA on a long recording's status message needs seconds of
recognition per second of audio, measured on earlier jobs and kept across restarts
(``domain.throughput`` does the arithmetic). The record is a tiny key-value row per
recognizer (SQLite and Tablestore keep it; ``RememberedThroughput`` in memory, for tests
and for a process given no store), and ``ThroughputBook`` reads and updates it, best effort: an ETA
is a courtesy, so a storage error is logged and never fails a job.
"""

from __future__ import annotations

import logging
from typing import Protocol

from application.errors import StorageError
from domain.throughput import updated_rate

log = logging.getLogger(__name__)


class ThroughputRecords(Protocol):
    async def rate(self, recognizer: str) -> float | None:
        """The stored average (seconds per audio second); ``None`` when never measured.
        Raises StorageError."""
        ...

    async def save_rate(self, recognizer: str, rate: float) -> None:
        """Last writer wins (an average: a lost update only loses one measurement).
        Raises StorageError."""
        ...


class RememberedThroughput:
    """``ThroughputRecords`` in this process's memory."""

    def __init__(self) -> None:
        self.rates: dict[str, float] = {}

    async def rate(self, recognizer: str) -> float | None:
        return self.rates.get(recognizer)

    async def save_rate(self, recognizer: str, rate: float) -> None:
        self.rates[recognizer] = rate


class ThroughputBook:
    def __init__(self, records: ThroughputRecords, recognizer: str) -> None:
        """``recognizer``: the name the measurements are kept under (the ASR backend)."""
        self._records = records
        self._recognizer = recognizer

    async def rate(self) -> float | None:
        try:
            return await self._records.rate(self._recognizer)
        except StorageError:
            log.warning("throughput of %s not read", self._recognizer, exc_info=True)
            return None

    async def measured(self, recognition_seconds: float, audio_seconds: float) -> None:
        """One recording was recognized in ``recognition_seconds``: fold it in."""
        if audio_seconds <= 0:
            return
        try:
            previous = await self._records.rate(self._recognizer)
            rate = updated_rate(previous, recognition_seconds / audio_seconds)
            if rate > 0:
                await self._records.save_rate(self._recognizer, rate)
        except StorageError:
            log.warning("throughput of %s not saved", self._recognizer, exc_info=True)
