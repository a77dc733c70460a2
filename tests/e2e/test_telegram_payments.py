"""Telegram Stars end to end, and the owner's commands, against the Bot API fake."""

from __future__ import annotations

from tests.e2e.conftest import RunningBot
from tests.e2e.test_telegram_bot import visible

BUYER = 5150
OWNER = 9000


async def test_the_whole_stars_flow_credits_once(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot(OWNER_ID=str(OWNER))
    fake = bot.fake
    fake.push_text(BUYER, BUYER, "/buy_minutes")
    [menu] = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(BUYER) if m.reply_markup]
    )
    buttons = [b for row in menu.reply_markup["inline_keyboard"] for b in row]
    assert [b["callback_data"] for b in buttons][:2] == ["buy:m10", "buy:m50"]
    fake.push_callback_query(BUYER, BUYER, "buy:m50", message_id=menu.message_id)

    [invoice] = await fake.wait_for_async(lambda: fake.invoices(BUYER))
    assert invoice.currency == "XTR" and not invoice.provider_token
    assert invoice.prices == [{"label": "50 min", "amount": 35}]

    fake.push_pre_checkout_query(BUYER, "XTR", 35, invoice.payload)
    [answer] = await fake.wait_for_async(fake.pre_checkout_answers)
    assert answer.ok

    for _ in range(2):  # Telegram delivers successful_payment twice
        fake.push_successful_payment(
            BUYER, BUYER, "XTR", 35, invoice.payload, telegram_payment_charge_id="charge-42"
        )
    await fake.wait_for_async(lambda: [t for t in visible(bot, BUYER) if "50 minutes added" in t])
    await fake.wait_for_async(lambda: not fake.pending_updates())
    assert len([t for t in visible(bot, BUYER) if "minutes added" in t]) == 1
    fake.push_text(BUYER, BUYER, "/balance")
    await fake.wait_for_async(lambda: [t for t in visible(bot, BUYER) if "Minutes left: 65" in t])
    account = await bot.container.accounts().get(BUYER)
    assert account is not None and (account.purchased, account.balance) == (50, 65)

    fake.push_text(OWNER, OWNER, "/refund charge-42")
    await fake.wait_for_async(lambda: [t for t in visible(bot, OWNER) if "refunded" in t])
    assert [r.telegram_payment_charge_id for r in fake.refunds()] == ["charge-42"]
    account = await bot.container.accounts().get(BUYER)
    assert account is not None and account.balance == 15


async def test_a_bad_checkout_is_refused_with_a_reason(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot()
    fake = bot.fake
    fake.push_pre_checkout_query(BUYER, "XTR", 1, f"vs1:m50:{BUYER}")  # wrong price
    fake.push_pre_checkout_query(BUYER, "XTR", 35, "pkg_50_someone_else")  # other scheme
    answers = await fake.wait_for_async(
        lambda: fake.pre_checkout_answers() if len(fake.pre_checkout_answers()) == 2 else []
    )
    assert not any(a.ok for a in answers)
    reasons = sorted(a.error_message or "" for a in answers)
    assert any("price has changed" in r for r in reasons)
    assert any("not valid" in r for r in reasons)


async def test_admin_commands_answer_the_owner_only(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot(OWNER_ID=str(OWNER))
    fake = bot.fake
    for command in ("/stat", "/credit 5150 30", "/export users", "/flush", "/jobs"):
        fake.push_text(BUYER, BUYER, command)
    await fake.wait_for_async(lambda: len(visible(bot, BUYER)) == 5)
    assert set(visible(bot, BUYER)) == {"I don't know that command. /help"}
    assert await bot.container.accounts().get(BUYER) is None, "nothing was credited"

    fake.push_text(OWNER, OWNER, "/credit 5150 30")
    await fake.wait_for_async(lambda: [t for t in visible(bot, OWNER) if "credited 30" in t])
    fake.push_text(OWNER, OWNER, "/stat")
    await fake.wait_for_async(lambda: [t for t in visible(bot, OWNER) if "users: 1" in t])
    fake.push_text(OWNER, OWNER, "/export users")
    [csv_file] = await fake.wait_for_async(lambda: fake.documents(OWNER))
    assert csv_file.data is not None and b"5150,45," in csv_file.data
    fake.push_text(OWNER, OWNER, "/user 5150")
    await fake.wait_for_async(lambda: [t for t in visible(bot, OWNER) if "balance 45" in t])


async def test_a_payment_that_is_not_the_package_s_price_is_not_credited(start_bot) -> None:  # type: ignore[no-untyped-def]
    """``total_amount`` 1 for the 8888-minute package (a forged update, or a Telegram fault):
    recorded, not credited; the buyer is told plainly, the owner alerted with the charge id."""
    bot: RunningBot = start_bot(OWNER_ID=str(OWNER))
    fake = bot.fake

    for _ in range(2):  # delivered twice: told once, alerted once
        fake.push_successful_payment(
            BUYER, BUYER, "XTR", 1, f"vs1:m8888:{BUYER}", telegram_payment_charge_id="forged-1"
        )

    [told] = await fake.wait_for_async(
        lambda: [t for t in visible(bot, BUYER) if "no minutes were added" in t], timeout=60
    )
    assert "forged-1" in told and "refund" in told
    [alert] = await fake.wait_for_async(
        lambda: [t for t in visible(bot, OWNER) if "forged-1" in t], timeout=60
    )
    assert "NOT credited" in alert and str(BUYER) in alert
    await fake.wait_for_async(lambda: not fake.pending_updates())
    account = await bot.container.accounts().get(BUYER)
    assert account is None or (account.purchased, account.balance) == (0, 15)
    payment = await bot.container.payments().get("forged-1")
    assert payment is not None and (payment.stars, payment.minutes) == (1, 0)

    fake.push_text(OWNER, OWNER, "/refund forged-1")
    await fake.wait_for_async(
        lambda: [t for t in visible(bot, OWNER) if "refunded; 0 min" in t], timeout=60
    )
    assert [r.telegram_payment_charge_id for r in fake.refunds()] == ["forged-1"]
    assert len([t for t in visible(bot, BUYER) if "no minutes were added" in t]) == 1
    assert len([t for t in visible(bot, OWNER) if "NOT credited" in t]) == 1


async def test_a_payment_for_a_stale_invoice_is_explained_and_reported(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot(OWNER_ID=str(OWNER))
    fake = bot.fake

    fake.push_successful_payment(
        BUYER,
        BUYER,
        "XTR",
        35,
        f"vs1:m51:{BUYER}",
        telegram_payment_charge_id="stale-1",
        language_code="ru",
    )

    [told] = await fake.wait_for_async(
        lambda: [t for t in visible(bot, BUYER) if "stale-1" in t], timeout=60
    )
    assert "больше не действует" in told
    await fake.wait_for_async(lambda: [t for t in visible(bot, OWNER) if "stale-1" in t])


async def test_refund_twice_says_already_refunded(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot(OWNER_ID=str(OWNER))
    fake = bot.fake
    fake.push_successful_payment(
        BUYER, BUYER, "XTR", 35, f"vs1:m50:{BUYER}", telegram_payment_charge_id="charge-7"
    )
    await fake.wait_for_async(lambda: [t for t in visible(bot, BUYER) if "50 minutes added" in t])

    fake.push_text(OWNER, OWNER, "/refund charge-7")
    await fake.wait_for_async(lambda: [t for t in visible(bot, OWNER) if "refunded;" in t])
    fake.push_text(OWNER, OWNER, "/refund charge-7")

    await fake.wait_for_async(
        lambda: [t for t in visible(bot, OWNER) if "already refunded" in t], timeout=60
    )
    assert len([t for t in visible(bot, OWNER) if t.startswith("refunded;")]) == 1
    assert [r.telegram_payment_charge_id for r in fake.refunds()] == ["charge-7"]
