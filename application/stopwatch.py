"""Measuring how long each stage of a job takes, on the injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from application.ports import Clock


class Stopwatch:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = self._clock.monotonic()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + self._clock.monotonic() - started
