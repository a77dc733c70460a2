"""Closing what a process opened, in reverse order, once, at shutdown.

Adapters are built lazily by the container; each builder registers its adapter's close
here, so only what was actually opened is closed (an unselected backend never is). Each
close has a deadline: an SDK whose socket never answers must not keep the process (or a
test run) from ending, nor keep the adapters registered before it from closing.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None] | None]

# The slowest close measured is an executor finishing a call in flight; SDK calls have a
# 10-30 s timeout of their own, so this only cuts off what would never end.
CLOSE_TIMEOUT_SECONDS = 30.0


class Closing:
    def __init__(self, timeout_seconds: float = CLOSE_TIMEOUT_SECONDS) -> None:
        self._closers: list[tuple[str, Closer]] = []
        self._timeout = timeout_seconds

    def register(self, name: str, closer: Closer) -> None:
        self._closers.append((name, closer))

    async def close_all(self) -> None:
        while self._closers:
            name, closer = self._closers.pop()
            try:
                result = closer()
                if inspect.isawaitable(result):
                    await self._within_deadline(name, result)
            except Exception:
                log.exception("closing %s failed", name)

    async def _within_deadline(self, name: str, closing: Awaitable[None]) -> None:
        task = asyncio.ensure_future(closing)
        done, _ = await asyncio.wait({task}, timeout=self._timeout)
        if done:
            task.result()
            return
        task.cancel()  # not awaited: a close that ignores cancellation is left behind
        log.error("closing %s took over %.0f s; left unfinished", name, self._timeout)
