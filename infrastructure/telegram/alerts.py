"""Alerts to the owner's Telegram chat (``OWNER_ID``); logged when no owner is set."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import TelegramError

log = logging.getLogger(__name__)


class TelegramOwnerAlerts:
    def __init__(self, bot: Bot, owner_id: int) -> None:
        self._bot = bot
        self._owner_id = owner_id

    async def alert(self, text: str) -> None:
        log.warning("owner alert: %s", text)
        if self._owner_id <= 0:
            return
        try:
            await self._bot.send_message(self._owner_id, text[:4000])
        except TelegramError as error:
            log.warning("the owner alert could not be sent: %s", error)
