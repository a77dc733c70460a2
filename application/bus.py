"""The async message bus: one handler per command, any number of observers per event.

Handlers put the events their aggregates recorded into the ``Outbox`` after saving them;
the bus dispatches those events once the command is handled. The outbox is per command:
each ``handle`` collects into a list of its own (a context variable, which the tasks a
handler starts share), so the events of one command are dispatched by that command and
never by another running at the same time. An event handler that fails is logged and
does not undo or fail the command, whose state is already saved.
"""

from __future__ import annotations

import contextvars
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
    """Events recorded by saved aggregates, waiting to be dispatched: those of the command
    being handled in this context, or (outside any command) of the process."""

    def __init__(self) -> None:
        self._current: contextvars.ContextVar[list[Event] | None] = contextvars.ContextVar(
            "outbox", default=None
        )
        self._outside_commands: list[Event] = []

    def collect(self, aggregate: HasEvents) -> None:
        self._pending().extend(aggregate.events)
        aggregate.events.clear()

    def open_for_command(self) -> contextvars.Token[list[Event] | None]:
        """Start collecting this context's events apart; ``close`` returns them."""
        return self._current.set([])

    def close(self, token: contextvars.Token[list[Event] | None]) -> list[Event]:
        pending = self._current.get() or []
        self._current.reset(token)
        return pending

    def drain(self) -> list[Event]:
        """Events collected outside any command."""
        pending, self._outside_commands = self._outside_commands, []
        return pending

    def _pending(self) -> list[Event]:
        current = self._current.get()
        return self._outside_commands if current is None else current


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
        token = self._outbox.open_for_command()
        try:
            return await handler(command)
        finally:
            await self._dispatch(self._outbox.close(token))

    async def dispatch_events(self) -> None:
        """Dispatch what was collected outside any command."""
        await self._dispatch(self._outbox.drain())

    async def _dispatch(self, events: Sequence[Event]) -> None:
        for event in events:
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
