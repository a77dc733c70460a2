"""A PTB ``ExtBot`` that survives an update it cannot parse.

An ``ExtBot`` (not a plain ``Bot``) because only it takes a ``rate_limiter``: every Bot
API call it makes goes through ``rate_limiter.py``.

PTB's polling does not move past an update ``Update.de_json`` rejects: the same update
comes back forever and nothing else is answered. Here such an update is logged and
replaced by a bare ``{"update_id": N}`` that no handler matches, so the offset moves on.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import ExtBot

log = logging.getLogger(__name__)


class TolerantBot(ExtBot[None]):
    async def _post(self, endpoint: str, *args: Any, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, *args, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            return [self._parseable(update) for update in result]
        return result

    def _parseable(self, update: Any) -> Any:
        try:
            Update.de_json(update, self)
        except Exception as error:
            update_id = update.get("update_id") if isinstance(update, dict) else None
            log.warning("update %s cannot be parsed (%s); skipped", update_id, error)
            return {"update_id": update_id} if isinstance(update_id, int) else {"update_id": 0}
        return update
