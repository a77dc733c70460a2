"""The bridge from a stored update body to the bot: JSON to PTB's ``Update``, then PTB.

Why this exists: the inbox (``application.inbox``) keeps updates as text and knows no
PTB; the webhook and Function Compute hand it this callable to handle one update.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from telegram import Bot, Update

log = logging.getLogger(__name__)


class UpdateProcessor(Protocol):
    """What the bridge needs of PTB's Application."""

    @property
    def bot(self) -> Bot: ...

    async def process_update(self, update: object) -> None: ...


class PtbBridge:
    def __init__(self, ptb: Any) -> None:
        self._ptb: UpdateProcessor = ptb

    async def __call__(self, key: str, body: str) -> None:
        """Handle one update body; one that does not parse is logged and dropped."""
        try:
            data = json.loads(body)
            update = Update.de_json(data, self._ptb.bot) if isinstance(data, dict) else None
        except Exception:
            update = None
        if update is None:
            log.warning("%s does not parse; dropped", key)
            return
        await self._ptb.process_update(update)
