"""The bridge from a stored update body to the bot: JSON to PTB's ``Update``, then PTB,
and a handler's failure back to the caller.

Why this exists: the inbox (``application.inbox``) keeps updates as text, knows no PTB,
and must know whether an update was handled: a failed one is retried, not finished.
PTB catches a handler's exception inside ``Application.process_update`` and passes it
to the error handlers, awaited inline in the same task (blocking handlers, the only kind
``build_bot`` registers); so the bridge opens a record in a context variable before
``process_update``, ``build_bot`` registers ``record_handler_error`` as an error handler,
and the bridge raises ``UpdateFailed`` when the record is not empty. The webhook,
Function Compute and polling all hand the inbox this callable.
"""

from __future__ import annotations

import contextvars
import json
import logging
from typing import Any, Protocol

from telegram import Bot, Update

log = logging.getLogger(__name__)

_errors: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "voicescribe_update_errors", default=None
)


class UpdateFailed(Exception):
    """A handler raised while the bot handled the update; ``errors`` are what it raised."""

    def __init__(self, key: str, errors: list[BaseException]) -> None:
        described = "; ".join(f"{type(error).__name__}: {error}" for error in errors)
        super().__init__(f"{key}: {described}")
        self.errors = errors


class UpdateProcessor(Protocol):
    """What the bridge needs of PTB's Application."""

    @property
    def bot(self) -> Bot: ...

    async def process_update(self, update: object) -> None: ...


async def record_handler_error(update: object, context: Any) -> None:
    """PTB error handler: note the error for the bridge handling this update, if any (a
    job's or PTB's own error outside an update has no record open and is left to the
    logging error handler)."""
    record = _errors.get()
    if record is not None and isinstance(context.error, BaseException):
        record.append(context.error)


class PtbBridge:
    def __init__(self, ptb: Any) -> None:
        self._ptb: UpdateProcessor = ptb

    async def __call__(self, key: str, body: str) -> None:
        """Handle one update body; one that does not parse is logged and dropped. Raises
        ``UpdateFailed`` when a handler raised."""
        try:
            data = json.loads(body)
            update = Update.de_json(data, self._ptb.bot) if isinstance(data, dict) else None
        except Exception:
            update = None
        if update is None:
            log.warning("%s does not parse; dropped", key)
            return
        record: list[BaseException] = []
        token = _errors.set(record)
        try:
            await self._ptb.process_update(update)
        finally:
            _errors.reset(token)
        if record:
            raise UpdateFailed(key, record)
