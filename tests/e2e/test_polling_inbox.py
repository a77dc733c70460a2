"""``serve`` polls through the durable inbox: an update is stored before its offset is
acknowledged, and a handler that failed is retried until the answer is delivered."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from tests.e2e.conftest import RunningBot

USER = 5151


def help_replies(bot: RunningBot) -> list[str]:
    return [m.text for m in bot.fake.sent_messages(USER) if "/output:" in m.text]


async def test_an_update_the_store_cannot_take_is_not_acknowledged_and_comes_again(
    start_bot, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.WARNING, logger="entrypoints.telegram.polling")
    bot: RunningBot = start_bot()
    fake = bot.fake
    fake.push_text(USER, USER, "/start")
    await fake.wait_for_async(lambda: fake.sent_messages(USER), timeout=60)
    path = bot.container.sqlite().path
    other_process = sqlite3.connect(path, isolation_level=None)
    try:
        other_process.execute("BEGIN IMMEDIATE")  # the write lock, held past the busy timeout
        update = fake.push_text(USER, USER, "/help")
        await fake.wait_for_async(
            lambda: [r for r in caplog.records if "not stored" in r.getMessage()], timeout=60
        )
        assert update["update_id"] in [u["update_id"] for u in fake.pending_updates()], (
            "not acknowledged: Telegram still has it"
        )
        assert fake.confirmed_offset <= update["update_id"]
        assert help_replies(bot) == []
    finally:
        other_process.execute("ROLLBACK")
        other_process.close()

    await fake.wait_for_async(lambda: help_replies(bot), timeout=60)
    await fake.wait_for_async(lambda: not fake.pending_updates(), timeout=60)
    assert len(help_replies(bot)) == 1


async def test_a_reply_that_failed_is_sent_when_the_update_is_retried(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot(TELEGRAM_NETWORK_RETRIES="0")  # the limiter gives up at once
    fake = bot.fake
    fake.push_text(USER, USER, "/start")
    await fake.wait_for_async(lambda: fake.sent_messages(USER), timeout=60)
    before = len(fake.calls_to("sendMessage"))
    fake.fail_next("sendMessage", 500, times=2, chat_id=USER)
    fake.push_text(USER, USER, "/help")

    await fake.wait_for_async(lambda: help_replies(bot), timeout=60)
    calls = fake.calls_to("sendMessage")[before:]
    assert [call.error_code for call in calls] == [500, 500, None], "two handlings failed"
    assert len(help_replies(bot)) == 1
