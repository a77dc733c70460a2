"""Long polling through the inbox: an update is stored before Telegram is told it arrived.

Why this exists: PTB's ``Updater`` advances the ``getUpdates`` offset (which is what
acknowledges updates to Telegram) as soon as it has fetched them, so an update fetched by
a process that then died, or that the bot failed to handle, was gone. Here each fetched
update is claimed in the same durable inbox the webhook uses (``application.inbox``),
body and all, and only then does the next ``getUpdates`` carry an offset past it. When
the store cannot take an update, the offset stays on it: after a pause the same updates
are fetched again (Telegram keeps them until acknowledged), already-claimed ones are
recognised as redeliveries. Handling, retries and replay are the inbox's, exactly as
behind the webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from telegram import Bot, Update
from telegram.error import RetryAfter, TelegramError

from application.errors import StorageError
from application.inbox import AdmitAtOnce, Inbox
from entrypoints.composition.container import Container
from entrypoints.telegram.bot import CONCURRENT_UPDATES
from entrypoints.telegram.bot import Bot as PtbApplication
from entrypoints.telegram.update_bridge import PtbBridge

log = logging.getLogger(__name__)

POLL_TIMEOUT_SECONDS = 10  # Telegram holds a getUpdates this long when there is nothing
READ_MARGIN_SECONDS = 10.0  # on top of the poll timeout before the request is given up
PAUSE_FIRST_SECONDS = 1.0  # after a failed fetch or claim, doubling
PAUSE_MAX_SECONDS = 30.0
ACKNOWLEDGE_SECONDS = 5.0  # for the last offset, at stop


def polling_inbox(ptb: PtbApplication, container: Container) -> Inbox:
    """The inbox polled updates go through: no admission gate (nothing to acknowledge
    first), as many at once as PTB handled concurrently before."""
    return Inbox(
        PtbBridge(ptb),
        container.processed_updates(),
        AdmitAtOnce(),
        alerts=container.alerts(),
        concurrency=CONCURRENT_UPDATES,
        lease_seconds=container.settings().update_lease_seconds,
        max_attempts=container.settings().update_max_attempts,
    )


class UpdatePolling:
    """``getUpdates`` in a loop, every update claimed in ``inbox`` before the offset moves."""

    def __init__(
        self,
        bot: Bot,
        inbox: Inbox,
        *,
        poll_timeout: int = POLL_TIMEOUT_SECONDS,
        pause_first_seconds: float = PAUSE_FIRST_SECONDS,
        pause_max_seconds: float = PAUSE_MAX_SECONDS,
        allowed_updates: Sequence[str] = Update.ALL_TYPES,
    ) -> None:
        self._bot = bot
        self._inbox = inbox
        self._poll_timeout = poll_timeout
        self._pause_first = pause_first_seconds
        self._pause_max = pause_max_seconds
        self._allowed = list(allowed_updates)
        self._offset = 0
        self._failures = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; never raises for Telegram's or the store's errors
        (it pauses and tries again), returns once stopped."""
        webhook_deleted = False
        while not stop.is_set():
            try:
                if not webhook_deleted:  # getUpdates answers 409 while a webhook is set
                    await self._bot.delete_webhook()
                    webhook_deleted = True
                updates = await _unless_stopped(self._fetch(), stop)
            except RetryAfter as error:
                await self._pause(stop, _seconds(error.retry_after), f"Telegram: {error}")
                continue
            except TelegramError as error:
                await self._pause(stop, None, f"getUpdates failed: {error}")
                continue
            if updates is None:
                break
            if await self._claim(updates):
                self._failures = 0
            else:
                await self._pause(stop, None, "the inbox cannot take updates")
        await self._acknowledge()

    async def _fetch(self) -> list[dict[str, Any]]:
        """The updates as Telegram sent them. Not ``Bot.get_updates``: the inbox keeps the
        body as it came, and a parsed ``Update`` does not always serialize back (PTB
        fails on a hostile ``"duration": "long"``). Bot API method names are
        case-insensitive; spelled ``getupdates``, ``do_api_request`` takes it without its
        "use Bot.get_updates" warning."""
        params: dict[str, Any] = {"timeout": self._poll_timeout, "allowed_updates": self._allowed}
        if self._offset:
            params["offset"] = self._offset
        result = await self._bot.do_api_request(
            "getupdates",
            api_kwargs=params,
            read_timeout=self._poll_timeout + READ_MARGIN_SECONDS,
        )
        if not isinstance(result, list):
            raise TelegramError(f"getUpdates answered {type(result).__name__}, not a list")
        return [update for update in result if isinstance(update, dict)]

    async def _claim(self, updates: Sequence[dict[str, Any]]) -> bool:
        """Claim each update in order, the offset following; ``False`` when the store
        failed (the offset stays on the update it could not take)."""
        for update in updates:
            update_id = update.get("update_id")
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                log.warning("an update without an update_id; dropped: %.200r", update)
                continue
            try:
                await self._inbox.take(f"update:{update_id}", json.dumps(update))
            except StorageError as error:
                log.warning(
                    "update %s not stored; fetched again after a pause: %s", update_id, error
                )
                return False
            self._offset = max(self._offset, update_id + 1)
        return True

    async def _pause(self, stop: asyncio.Event, seconds: float | None, why: str) -> None:
        self._failures += 1
        if seconds is None:
            seconds = min(self._pause_max, self._pause_first * 2 ** min(self._failures - 1, 30))
        log.warning("%s; polling again in %.1f s", why, seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def _acknowledge(self) -> None:
        """Tell Telegram the updates claimed so far arrived (best effort: unacknowledged
        ones come again and are recognised as redeliveries)."""
        if not self._offset:
            return
        try:
            await asyncio.wait_for(
                self._bot.do_api_request(
                    "getupdates", api_kwargs={"offset": self._offset, "timeout": 0, "limit": 1}
                ),
                ACKNOWLEDGE_SECONDS,
            )
        except (TelegramError, TimeoutError) as error:
            log.info("last offset not acknowledged (redeliveries are ignored): %s", error)


async def _unless_stopped(
    fetch: Coroutine[Any, Any, list[dict[str, Any]]], stop: asyncio.Event
) -> list[dict[str, Any]] | None:
    """The fetch's updates, or ``None`` when ``stop`` came first (the fetch is cancelled:
    nothing it would have returned was acknowledged, so nothing is lost)."""
    fetching = asyncio.ensure_future(fetch)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({fetching, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not fetching.done():
            fetching.cancel()
        await asyncio.gather(fetching, stopping, return_exceptions=True)
    if fetching.cancelled():
        return None
    return fetching.result()


def _seconds(retry_after: object) -> float:
    total = getattr(retry_after, "total_seconds", None)
    return float(total()) if callable(total) else float(retry_after)  # type: ignore[arg-type]
