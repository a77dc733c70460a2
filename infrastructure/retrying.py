"""Bounded retries with exponential backoff and full jitter, for every external call.

Adapters map their SDK's errors onto port errors first; this retries only those marked
``transient`` and gives up after ``attempts`` tries or when the time budget runs out, so
a provider outage slows a job down by a bounded amount and never hangs it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import attrs

from application.errors import PortError

T = TypeVar("T")
log = logging.getLogger(__name__)


@attrs.frozen
class RetryPolicy:
    attempts: int = 4
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 8.0
    budget_seconds: float = 60.0

    def delay(self, attempt: int, hint: float | None = None) -> float:
        """Sleep before retry ``attempt`` (1-based); a server's ``retry_after`` wins."""
        if hint is not None:
            return min(hint, self.max_delay_seconds)
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)


NO_RETRY = RetryPolicy(attempts=1)


async def with_retries(
    operation: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    what: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``operation``; retry it while it raises a transient ``PortError``."""
    started = time.monotonic()
    for attempt in range(1, policy.attempts + 1):
        try:
            return await operation()
        except PortError as error:
            if not error.transient or attempt == policy.attempts:
                raise
            pause = policy.delay(attempt, getattr(error, "retry_after", None))
            if time.monotonic() - started + pause > policy.budget_seconds:
                raise
            log.warning("%s failed (%s); retry %d in %.2fs", what, error, attempt, pause)
            await sleep(pause)
    raise AssertionError("unreachable: the last attempt returns or raises")
