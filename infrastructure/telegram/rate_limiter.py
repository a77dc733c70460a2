"""The one throttled, retrying path every Bot API call of the bot goes through.

Why this exists: Telegram answers 429 under ordinary load (about 30 messages a second per
bot, 20 a minute per group), and a reply that fails there used to be lost. PTB routes
every request of an ``ExtBot`` (``infrastructure/telegram/tolerant_bot.py``) through its
``rate_limiter``, so the messenger's sends and the handlers' own ``reply_text`` / edits /
answers are throttled and retried here, once, in the same way.

Why not PTB's ``AIORateLimiter`` as is: it waits out every ``RetryAfter`` however long
(no time budget), it halts *every* chat on one chat's 429, it never retries a 5xx or a
dropped connection, and it logs each 429 it gives up on with a traceback. This limiter
uses the same leaky buckets (``aiolimiter``, from PTB's ``rate-limiter`` extra) and:

- throttles like ``AIORateLimiter``: an overall bucket for every call that names a chat,
  and one bucket per group or channel (negative ids, ``@username``);
- leaves private chats to the overall bucket: Telegram's "one message a second per chat"
  tolerates bursts, and throttling it would hold every answer behind its own status
  edits; a 429 there is waited like any other;
- on ``RetryAfter`` pauses that chat only (or the chat-less calls) for ``retry_after``
  and tries again while the waits stay within ``max_retry_seconds``;
- retries a ``NetworkError`` (PTB's error for a 5xx answer, a dropped connection or a
  timeout; not its subclass ``BadRequest``, a 400 that no retry changes)
  ``network_retries`` times with jittered backoff, within the same budget.

The duplicate risk, chosen knowingly: a send whose request reached Telegram but whose
answer was lost (a read timeout, a connection dropped after the request) is sent again,
and the Bot API has no idempotency key to prevent that. A rare duplicate message can be
ignored by the user; a lost answer cannot be recovered, so retrying wins.

An error the limiter gave up on carries the note ``RETRIES_SPENT`` so
``infrastructure/telegram/errors.py`` does not retry it a second time on top.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

import attrs
from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from infrastructure.retrying import RetryPolicy
from infrastructure.telegram.errors import RETRIES_SPENT, retry_after_seconds

log = logging.getLogger(__name__)

ChatKey = int | str | None  # None: a call that names no chat
Result = bool | dict[str, Any] | list[dict[str, Any]]
_MAX_TRACKED_CHATS = 512
_RETRY_AFTER_MARGIN_SECONDS = 0.1


@attrs.frozen
class TelegramLimits:
    """Telegram's published limits by default; 0 turns a bucket off."""

    messages_per_second: float = 30
    group_messages_per_minute: float = 20
    max_retry_seconds: float = 30.0
    network_retries: int = 2
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0


class TelegramRateLimiter(BaseRateLimiter[None]):
    """Throttle by Telegram's limits; wait out 429s and retry transient failures."""

    def __init__(
        self,
        limits: TelegramLimits | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits or TelegramLimits()
        self._sleep = sleep
        rate = self.limits.messages_per_second
        self._overall = AsyncLimiter(rate, 1) if rate > 0 else None
        self._groups: dict[int | str, AsyncLimiter] = {}
        self._paused_until: dict[ChatKey, float] = {}
        self._backoff = RetryPolicy(
            attempts=self.limits.network_retries + 1,
            base_delay_seconds=self.limits.backoff_base_seconds,
            max_delay_seconds=self.limits.backoff_max_seconds,
            budget_seconds=self.limits.max_retry_seconds,
        )

    async def initialize(self) -> None:
        """Nothing to open: buckets are made on first use."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(  # noqa: PLR0917 - BaseRateLimiter's signature, PTB calls it so
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Result:
        chat = _chat_key(data.get("chat_id"))
        waited = 0.0
        network_failures = 0
        while True:
            await self._wait_out_pause(chat)
            try:
                async with self._throttled(chat):
                    return await callback(*args, **kwargs)
            except RetryAfter as error:
                pause = retry_after_seconds(error) + _RETRY_AFTER_MARGIN_SECONDS
                self._pause(chat, pause)
                if waited + pause > self.limits.max_retry_seconds:
                    _mark_spent(error, endpoint, waited)
                    raise
                log.warning("%s: Telegram asks to wait %.1f s; then retried", endpoint, pause)
            except BadRequest:
                raise  # PTB's BadRequest is a NetworkError, but asking again changes nothing
            except NetworkError as error:
                network_failures += 1
                pause = self._backoff.delay(network_failures)
                too_long = waited + pause > self.limits.max_retry_seconds
                if network_failures > self.limits.network_retries or too_long:
                    _mark_spent(error, endpoint, waited)
                    raise
                log.warning("%s failed (%s); retrying in %.2f s", endpoint, error, pause)
                await self._sleep(pause)
            waited += pause

    async def _wait_out_pause(self, chat: ChatKey) -> None:
        remaining = self._paused_until.get(chat, 0.0) - time.monotonic()
        if remaining > 0:
            await self._sleep(remaining)

    def _pause(self, chat: ChatKey, seconds: float) -> None:
        if len(self._paused_until) > _MAX_TRACKED_CHATS:
            now = time.monotonic()
            for key, until in list(self._paused_until.items()):
                if until <= now:
                    del self._paused_until[key]
        until = time.monotonic() + seconds
        self._paused_until[chat] = max(until, self._paused_until.get(chat, 0.0))

    @contextlib.asynccontextmanager
    async def _throttled(self, chat: ChatKey) -> AsyncIterator[None]:
        group = self._group_bucket(chat)
        async with group or contextlib.nullcontext(), self._overall_bucket(chat):
            yield

    def _overall_bucket(self, chat: ChatKey) -> contextlib.AbstractAsyncContextManager[None]:
        if chat is None or self._overall is None:
            return contextlib.nullcontext()
        return self._overall

    def _group_bucket(self, chat: ChatKey) -> AsyncLimiter | None:
        per_minute = self.limits.group_messages_per_minute
        is_group = isinstance(chat, str) or (isinstance(chat, int) and chat < 0)
        if chat is None or not is_group or per_minute <= 0:
            return None
        if chat not in self._groups and len(self._groups) > _MAX_TRACKED_CHATS:
            idle = [key for key, bucket in self._groups.items() if bucket.has_capacity(per_minute)]
            for key in idle:
                del self._groups[key]
        if chat not in self._groups:
            self._groups[chat] = AsyncLimiter(per_minute, 60)
        return self._groups[chat]


def _chat_key(chat_id: object) -> ChatKey:
    """Telegram's chat: an int id, or an ``@username`` string (a group or channel)."""
    if chat_id is None:
        return None
    try:
        return int(str(chat_id))
    except ValueError:
        return str(chat_id)


def _mark_spent(error: TelegramError, endpoint: str, waited: float) -> None:
    error.add_note(f"{RETRIES_SPENT} ({endpoint}, after {waited:.1f} s of waits)")
    log.warning("%s failed (%s); giving up after %.1f s of waits", endpoint, error, waited)
