"""Calling the Bot API with a timeout and bounded retries, and PTB errors as port errors.

429 waits for Telegram's ``retry_after``; network trouble and timeouts are retried with
backoff; a user who blocked the bot (403) or a bad request (400) fails at once.
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
            raise as_port_error(error, make, what) from error
        except TimeoutError:
            message = f"{what}: Telegram did not answer in {timeout_seconds:g}s"
            raise make(message, transient=True) from None

    return await with_retries(once, retry, what=what)
