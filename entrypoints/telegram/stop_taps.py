"""The Stop button's tap: translated into ``StopJob`` and answered with a short popup.

Why this exists: the button sits on a job's status message (``infrastructure/telegram/
stop_button.py``); its handler is registered before the generic callback handler, so a
Stop tap never reaches the settings' parsing. Whether the presser may stop the job, and
what stopping means, is the use case's (``application.handlers.stop_job``). Someone
else's tap is refused with an alert seen by them alone; a tap retried by the inbox lands
on a job already stopping or stopped, which changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application as PtbApplication
from telegram.ext import CallbackQueryHandler, ContextTypes

from application.bootstrap import UseCases
from application.commands import StopJob
from application.handlers.stop_job import StopResult
from entrypoints.telegram.texts import text
from infrastructure.telegram.stop_button import STOP_PREFIX, parse_stop

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
REFUSED = frozenset({StopResult.NOT_YOURS, StopResult.UNKNOWN, StopResult.FINISHED})


class StopTaps:
    def __init__(self, app: UseCases) -> None:
        self._app = app

    def register(self, ptb: PtbApplication[Any, Any, Any, Any, Any, Any]) -> None:
        ptb.add_handler(CallbackQueryHandler(self.on_stop, pattern=f"^{STOP_PREFIX}"))

    async def on_stop(self, update: Update, context: Context) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        job_id = parse_stop(query.data)
        lang = user.language_code
        if job_id is None:
            await _answer(query, text("stop.unknown", lang), alert=True)
            return
        result = await self._app.bus.handle(StopJob(job_id, user.id))
        await _answer(query, text(f"stop.{result.value}", lang), alert=result in REFUSED)


async def _answer(query: Any, words: str, *, alert: bool) -> None:
    """Answer the tap; on a retried update it may be answered already (400)."""
    try:
        await query.answer(words, show_alert=alert)
    except BadRequest as error:
        log.info("callback query not answered: %s", error)
