"""The async message bus: one handler per command, any number of observers per event.

Handlers put the events their aggregates recorded into the ``Outbox`` after saving them;
the bus dispatches those events once the command is handled. An event handler that fails
is logged and does not undo or fail the command, whose state is already saved.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from application.commands import Command
from domain.events import Event

log = logging.getLogger(__name__)

CommandHandler = Callable[[Any], Awaitable[Any]]
EventHandler = Callable[[Any], Awaitable[None]]


class HasEvents(Protocol):
    events: list[Event]


class Outbox:
    """Events recorded by saved aggregates, waiting to be dispatched."""

    def __init__(self) -> None:
        self._pending: list[Event] = []

    def collect(self, aggregate: HasEvents) -> None:
        self._pending.extend(aggregate.events)
        aggregate.events.clear()

    def drain(self) -> list[Event]:
        pending, self._pending = self._pending, []
        return pending


class MessageBus:
    def __init__(
        self,
        outbox: Outbox,
        command_handlers: Mapping[type[Command], CommandHandler],
        event_handlers: Mapping[type[Event], Sequence[EventHandler]] | None = None,
    ) -> None:
        self._outbox = outbox
        self._commands = dict(command_handlers)
        self._events = dict(event_handlers or {})

    async def handle(self, command: Command) -> Any:
        handler = self._commands.get(type(command))
        if handler is None:
            raise LookupError(f"no handler for {type(command).__name__}")
        try:
            return await handler(command)
        finally:
            await self.dispatch_events()

    async def dispatch_events(self) -> None:
        for event in self._outbox.drain():
            for handler in self._handlers_for(event):
                try:
                    await handler(event)
                except Exception:
                    log.exception("event handler %r failed on %r", handler, event)

    def _handlers_for(self, event: Event) -> list[EventHandler]:
        return [
            handler
            for event_type in type(event).__mro__
            if event_type in self._events
            for handler in self._events[event_type]
        ]
