"""Owner alerts where there is no chat to send them to (the CLI): the log."""

from __future__ import annotations

import logging

log = logging.getLogger("voicescribe.alerts")


class LoggedAlerts:
    async def alert(self, text: str) -> None:
        log.warning("owner alert: %s", text)
