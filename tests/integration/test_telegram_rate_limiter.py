"""The bot's one throttled, retrying path for Bot API calls, with real PTB against the fake.

The bot comes from ``open_telegram_bot`` (what every entrypoint uses), so these tests
cover the wiring as well as ``infrastructure/telegram/rate_limiter.py``. Time is only
ever asserted as a lower bound (a wait that must have happened), never as an upper one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator

import pytest
from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from application.errors import DeliveryFailed
from entrypoints.composition.builders import open_telegram_bot
from entrypoints.composition.closing import Closing
from infrastructure.telegram.errors import call_telegram, retries_spent
from infrastructure.telegram.rate_limiter import TelegramLimits
from infrastructure.telegram.tolerant_bot import TolerantBot
from tests.fakes.telegram import TelegramFake
from tests.fakes.telegram.fake import DROPPED_CONNECTION

USER = 4242
GROUP = -100777


def _bot(fake: TelegramFake, limits: TelegramLimits, closing: Closing) -> TolerantBot:
    return open_telegram_bot(fake.token, fake.api_base_url, closing, limits)


@pytest.fixture
async def closing() -> AsyncIterator[Closing]:
    closing = Closing()
    yield closing
    await closing.close_all()


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


async def _replies_with_polling(fake: TelegramFake, bot: TolerantBot, chat_id: int) -> list[str]:
    """Run a polling application whose handler answers one text with ``reply_text``."""
    application: Application = ApplicationBuilder().bot(bot).build()  # type: ignore[type-arg]
    application.add_handler(MessageHandler(filters.TEXT, _echo))
    fake.push_text(USER, chat_id, "hello")
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=dt.timedelta(seconds=1))
        await application.start()
        try:
            sent = await fake.wait_for_async(
                lambda: fake.sent_messages(chat_id), timeout=30, message="the handler's reply"
            )
        finally:
            await application.updater.stop()
            await application.stop()
    return [message.text for message in sent]


async def test_a_429_on_a_handlers_reply_is_waited_out_and_the_reply_arrives(
    telegram_fake: TelegramFake, closing: Closing
) -> None:
    telegram_fake.fail_next("sendMessage", 429, retry_after=1)
    bot = _bot(telegram_fake, TelegramLimits(), closing)

    assert await _replies_with_polling(telegram_fake, bot, USER) == ["echo: hello"]

    refused, accepted = telegram_fake.calls_to("sendMessage")
    assert refused.error_code == 429 and accepted.error_code is None
    assert refused.finished is not None
    assert accepted.time - refused.finished >= 1.0  # Telegram's retry_after was honoured


@pytest.mark.parametrize(
    "error_code", [500, 502, DROPPED_CONNECTION], ids=["500", "502", "dropped-connection"]
)
async def test_a_server_error_or_a_dropped_connection_on_a_handlers_reply_is_retried(
    telegram_fake: TelegramFake, closing: Closing, error_code: int
) -> None:
    telegram_fake.fail_next("sendMessage", error_code)
    bot = _bot(telegram_fake, TelegramLimits(backoff_base_seconds=0.05), closing)

    assert await _replies_with_polling(telegram_fake, bot, USER) == ["echo: hello"]

    failed, delivered = telegram_fake.calls_to("sendMessage")
    assert failed.error_code == error_code and delivered.error_code is None


async def test_a_429_that_does_not_end_gives_up_once_the_wait_budget_is_spent(
    telegram_fake: TelegramFake, closing: Closing
) -> None:
    telegram_fake.fail_next("sendMessage", 429, retry_after=1, times=1000)
    bot = _bot(telegram_fake, TelegramLimits(max_retry_seconds=2.5), closing)
    await bot.initialize()

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(USER, "never")

    # Waits of 1.1 s each: after two (2.2 s) a third would pass the 2.5 s budget.
    assert len(telegram_fake.calls_to("sendMessage")) == 3
    assert retries_spent(raised.value)


async def test_network_errors_are_retried_a_bounded_number_of_times(
    telegram_fake: TelegramFake, closing: Closing
) -> None:
    telegram_fake.fail_next("editMessageText", 500, times=1000)
    limits = TelegramLimits(network_retries=2, backoff_base_seconds=0.01)
    bot = _bot(telegram_fake, limits, closing)
    await bot.initialize()

    with pytest.raises(NetworkError) as raised:
        await bot.edit_message_text("x", chat_id=USER, message_id=1)

    assert len(telegram_fake.calls_to("editMessageText")) == 3
    assert retries_spent(raised.value)


async def test_a_bad_request_is_not_retried(telegram_fake: TelegramFake, closing: Closing) -> None:
    """PTB's BadRequest is a NetworkError; a 400 must still fail at once."""
    telegram_fake.fail_next("editMessageText", 400, "Bad Request: message to edit not found")
    limits = TelegramLimits(network_retries=2, backoff_base_seconds=0.01)
    bot = _bot(telegram_fake, limits, closing)
    await bot.initialize()

    with pytest.raises(BadRequest):
        await bot.edit_message_text("x", chat_id=USER, message_id=1)

    assert len(telegram_fake.calls_to("editMessageText")) == 1


async def test_the_messengers_retry_does_not_multiply_the_limiters(
    telegram_fake: TelegramFake, closing: Closing
) -> None:
    """call_telegram (the messenger's, Stars', getFile's) takes the limiter's verdict: a
    transient port error, without trying the whole retry cycle again."""
    telegram_fake.fail_next("sendMessage", 500, times=1000)
    limits = TelegramLimits(network_retries=2, backoff_base_seconds=0.01)
    bot = _bot(telegram_fake, limits, closing)
    await bot.initialize()

    with pytest.raises(DeliveryFailed) as raised:
        await call_telegram(lambda: bot.send_message(USER, "x"), DeliveryFailed, "sendMessage")

    assert raised.value.transient
    assert len(telegram_fake.calls_to("sendMessage")) == 3


async def test_a_429_in_one_chat_does_not_hold_up_another(
    telegram_fake: TelegramFake, closing: Closing
) -> None:
    telegram_fake.fail_next("sendMessage", 429, retry_after=30, chat_id=USER)
    bot = _bot(telegram_fake, TelegramLimits(max_retry_seconds=60), closing)
    await bot.initialize()

    paused = asyncio.create_task(bot.send_message(USER, "waits 30 s"))
    await telegram_fake.wait_for_async(
        lambda: telegram_fake.calls_to("sendMessage"), timeout=30, message="the 429"
    )
    await bot.send_message(USER + 1, "not held up")

    assert [m.text for m in telegram_fake.sent_messages()] == ["not held up"]
    assert not paused.done()
    paused.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await paused


async def test_calls_to_one_group_are_spaced_by_telegrams_group_limit(
    telegram_fake: TelegramFake, closing: Closing
) -> None:
    """20 a minute per group (a burst of 20, then one every 3 s): the 22nd message cannot
    leave before 6 s have passed since the first could."""
    bot = _bot(telegram_fake, TelegramLimits(), closing)
    await bot.initialize()
    started = time.monotonic()

    await asyncio.gather(*(bot.send_message(GROUP, f"m{i}") for i in range(22)))

    calls = telegram_fake.calls_to("sendMessage")
    assert len(calls) == 22
    assert max(call.time for call in calls) - started >= 5.9
    assert len(telegram_fake.sent_messages(GROUP)) == 22
