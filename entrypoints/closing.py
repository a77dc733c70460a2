"""Closing what a process opened, in reverse order, once, at shutdown.

Adapters are built lazily by the container; each builder registers its adapter's close
here, so only what was actually opened is closed (an unselected backend never is).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None] | None]


class Closing:
    def __init__(self) -> None:
        self._closers: list[tuple[str, Closer]] = []

    def register(self, name: str, closer: Closer) -> None:
        self._closers.append((name, closer))

    async def close_all(self) -> None:
        while self._closers:
            name, closer = self._closers.pop()
            try:
                result = closer()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("closing %s failed", name)
