"""Calling the Bot API with a timeout and bounded retries, and PTB errors as port errors.

429 waits for Telegram's ``retry_after``; network trouble and timeouts are retried with
backoff; a user who blocked the bot (403) or a bad request (400) fails at once.

The bot's rate limiter (``rate_limiter.py``) already retries every Bot API call; an error
it gave up on carries the note ``RETRIES_SPENT`` and is not retried again here (it is
still a transient port error, so a queued job is redelivered later). Here the retries
are for what the limiter never sees: file downloads, and bots built without it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import warnings
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from application.errors import PortError
from infrastructure.retrying import RetryPolicy, with_retries

T = TypeVar("T")
# The note the rate limiter adds to an error it stopped retrying.
RETRIES_SPENT = "voicescribe: retried by the Telegram rate limiter until its budget ran out"
TELEGRAM_RETRY = RetryPolicy(
    attempts=4, base_delay_seconds=0.5, max_delay_seconds=30, budget_seconds=90
)


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def as_port_error(error: TelegramError, make: type[PortError], what: str) -> PortError:
    if isinstance(error, RetryAfter):
        mapped = make(f"{what}: Telegram asks to wait", transient=True)
        mapped.retry_after = retry_after_seconds(error)  # type: ignore[attr-defined]
        return mapped
    if isinstance(error, Forbidden):
        return make(f"{what}: the user blocked the bot or left the chat", transient=False)
    if isinstance(error, BadRequest):
        return make(f"{what}: Telegram refused the request ({error.message})", transient=False)
    if isinstance(error, TimedOut | NetworkError):
        return make(f"{what}: network trouble talking to Telegram ({error})", transient=True)
    return make(f"{what}: {error}", transient=False)


async def call_telegram(
    call: Callable[[], Awaitable[T]],
    make: type[PortError],
    what: str,
    *,
    timeout_seconds: float = 60.0,
    retry: RetryPolicy = TELEGRAM_RETRY,
) -> T:
    async def once() -> T:
        try:
            async with asyncio.timeout(timeout_seconds):
                return await call()
        except TelegramError as error:
            mapped = as_port_error(error, make, what)
            if retries_spent(error):
                raise _AlreadyRetried(mapped) from error
            raise mapped from error
        except TimeoutError:
            message = f"{what}: Telegram did not answer in {timeout_seconds:g}s"
            raise make(message, transient=True) from None

    try:
        return await with_retries(once, retry, what=what)
    except _AlreadyRetried as spent:
        raise spent.error from spent.__cause__


def retries_spent(error: BaseException) -> bool:
    """Whether the rate limiter already retried ``error`` as long as it may."""
    return any(note.startswith(RETRIES_SPENT) for note in getattr(error, "__notes__", ()))


class _AlreadyRetried(Exception):
    """Carries a port error past ``with_retries`` (which only retries ``PortError``)."""

    def __init__(self, error: PortError) -> None:
        super().__init__(str(error))
        self.error = error
