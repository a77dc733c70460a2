"""Telling the owner when jobs fail for reasons the user did not cause, without flooding.

At most ``limit.max_events`` alerts per window; what is held back is counted and
mentioned in the next alert that goes out.
"""

from __future__ import annotations

import logging

from application.ports import Clock, OwnerAlerts
from domain.events import JobFailed
from domain.rate_limit import RateLimit, Window

log = logging.getLogger(__name__)


class OwnerAlerting:
    def __init__(self, alerts: OwnerAlerts, clock: Clock, limit: RateLimit) -> None:
        self._alerts = alerts
        self._clock = clock
        self._limit = limit
        self._window = Window()
        self._held_back = 0

    async def on_job_failed(self, event: JobFailed) -> None:
        if event.caused_by_user:
            return
        allowed, self._window, _ = self._window.admit(self._clock.now(), self._limit)
        if not allowed:
            self._held_back += 1
            return
        more = f" (+{self._held_back} more since the last alert)" if self._held_back else ""
        self._held_back = 0
        await self._alerts.alert(
            f"⚠️ job {event.job_id} of user {event.user_id} failed: {event.reason}{more}"
        )
