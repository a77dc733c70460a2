"""The process's conversion slots, one per core, with a recording the user waits on first.

Why this exists: conversion is CPU work, so all recordings of a process share one slot per
core. A long recording queues many chunk conversions for those slots; a short note that
came after them used to wait behind every one of them (estimated from benchmark 3's
conversion times: up to ~1.5 s behind an hour being re-encoded) although it is answered
while its user waits. Here a whole-recording conversion ("urgent") takes the next free
slot before any queued chunk. A freed slot is handed straight to the next waiter, so
nobody overtakes it between the release and its wake-up.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator


class ConversionSlots:
    """``slots`` concurrent conversions on one event loop."""

    def __init__(self, slots: int) -> None:
        self._free = max(1, slots)
        self._urgent: collections.deque[asyncio.Future[None]] = collections.deque()
        self._later: collections.deque[asyncio.Future[None]] = collections.deque()

    @contextlib.asynccontextmanager
    async def taken(self, *, urgent: bool) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    @property
    def waiting(self) -> int:
        return sum(not f.done() for f in (*self._urgent, *self._later))

    async def _acquire(self, urgent: bool) -> None:
        if self._free > 0:
            self._free -= 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._later
        queue.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # handed a slot while being cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    queue.remove(turn)
            raise

    def _release(self) -> None:
        for queue in (self._urgent, self._later):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._free += 1
