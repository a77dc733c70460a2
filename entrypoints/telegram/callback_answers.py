"""Answering a button press and redrawing its keyboard, safely on a retried update.

Why this exists: every handler of inline buttons (settings, group settings, actions,
Stop, /forget's confirmation) answers the callback query and often redraws the keyboard.
A retried update finds the query answered already (or too old) and the keyboard drawn
already; Telegram says so with a 400, which then means there is nothing left to do.
Anything else still raises, so the inbox retries the update.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from telegram.error import BadRequest

log = logging.getLogger(__name__)


async def answer_query(answering: Coroutine[Any, Any, bool]) -> None:
    """Answer a callback query; one answered already (a 400) is fine."""
    try:
        await answering
    except BadRequest as error:
        log.info("callback query not answered: %s", error)


async def redraw_keyboard(editing: Coroutine[Any, Any, object]) -> None:
    """Redraw a keyboard; raises unless it is drawn (a retry finding it drawn is fine)."""
    try:
        await editing
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise
