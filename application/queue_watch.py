"""Nothing waits in the job queue unnoticed.

A webhook run with no queue worker (or with its workers stuck) used to leave long notes
"in the queue" for ever with nothing saying so. ``QueueWatch`` reads the queue's backlog
for ``/healthz`` and, from a loop beside the webhook, tells the owner when a job has been
receivable for longer than ``QUEUE_ALERT_SECONDS`` (``domain.queue_health``) or when the
queue cannot be read, at most once per ``QUEUE_ALERT_SECONDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import attrs

from application.errors import QueueError
from application.ports import Clock, JobQueue, OwnerAlerts, QueueBacklog
from domain.queue_health import queue_stalled
from domain.rate_limit import RateLimit, Window

log = logging.getLogger(__name__)

WATCH_EVERY_SECONDS = 60.0


@attrs.frozen
class QueueHealth:
    """``backlog`` is ``None`` when the queue could not be read (``problem`` says why)."""

    backlog: QueueBacklog | None
    stalled: bool
    problem: str = ""

    @property
    def healthy(self) -> bool:
        return self.backlog is not None and not self.stalled


class QueueWatch:
    def __init__(
        self, queue: JobQueue, alerts: OwnerAlerts, clock: Clock, alert_after_seconds: float
    ) -> None:
        self._queue = queue
        self._alerts = alerts
        self._clock = clock
        self._alert_after = alert_after_seconds
        self._alert_limit = RateLimit(1, alert_after_seconds)
        self._alerted = Window()

    async def check(self) -> QueueHealth:
        """The backlog and whether it needs a look; the owner is told (rate-limited)."""
        try:
            backlog = await self._queue.backlog()
        except QueueError as error:
            log.error("job queue unreadable: %s", error)
            await self._alert(f"⚠️ the job queue cannot be read: {error}")
            return QueueHealth(None, stalled=True, problem=str(error))
        stalled = queue_stalled(backlog.oldest_waiting_seconds, self._alert_after)
        if stalled:
            log.warning("job queue stalled: %s", backlog)
            await self._alert(
                f"⚠️ a job has waited {backlog.oldest_waiting_seconds:.0f} s in the queue "
                f"({backlog.depth} queued) with no worker taking it: is a worker running?"
            )
        return QueueHealth(backlog, stalled)

    async def watch(self, stop: asyncio.Event, every_seconds: float = WATCH_EVERY_SECONDS) -> None:
        """``check`` now and every ``every_seconds`` until ``stop``."""
        while not stop.is_set():
            await self.check()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_seconds)

    async def _alert(self, text: str) -> None:
        allowed, self._alerted, _ = self._alerted.admit(self._clock.now(), self._alert_limit)
        if allowed:
            await self._alerts.alert(text)
