"""Buying minutes with Stars, checkout approval, owner credits, refunds, flush, reports."""

from __future__ import annotations

from application.commands import (
    AcceptVoiceNote,
    ApproveCheckout,
    BuyMinutes,
    CompletePayment,
    FlushStuckJobs,
    GrantMinutes,
    RefundPayment,
)
from application.handlers.billing import Purchase, RefundRefusal
from application.notices import NoticeReason
from domain.catalogue import CheckoutRefusal, PaymentProblem
from domain.jobs import AudioSource, JobStatus, MediaKind
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio

BUYER = 11


def pay(charge: str, payload: str = f"vs1:m50:{BUYER}", stars: int = 35) -> CompletePayment:
    return CompletePayment(BUYER, charge, payload, "XTR", stars)


async def test_a_button_sends_an_invoice_in_stars_naming_package_and_buyer(world: World) -> None:
    assert await world.app.bus.handle(BuyMinutes(BUYER, BUYER, "m50")) is Purchase.INVOICE_SENT
    assert world.stars.invoices == [(BUYER, f"vs1:m50:{BUYER}", 35)]
    assert await world.app.bus.handle(BuyMinutes(BUYER, BUYER, "m7")) is Purchase.UNKNOWN_PACKAGE


async def test_a_payment_is_credited_once_per_charge_id(world: World) -> None:
    first = await world.app.bus.handle(pay("charge-1"))
    again = await world.app.bus.handle(pay("charge-1"))
    assert (first.credited, first.minutes, first.balance) == (True, 50, 65)
    assert (again.credited, again.minutes, again.balance) == (False, 0, 65)
    assert list(world.payments.rows) == ["charge-1"]
    assert world.accounts.rows[BUYER].purchased == 50


async def test_checkout_is_approved_only_when_everything_matches(world: World) -> None:
    def checkout(payload: str, stars: int = 35, currency: str = "XTR", buyer: int = BUYER):  # type: ignore[no-untyped-def]
        return world.app.bus.handle(ApproveCheckout(buyer, payload, currency, stars))

    assert await checkout(f"vs1:m50:{BUYER}") is None
    assert await checkout("m50") is CheckoutRefusal.BAD_PAYLOAD
    assert await checkout(f"vs1:m51:{BUYER}") is CheckoutRefusal.UNKNOWN_PACKAGE
    assert await checkout(f"vs1:m50:{BUYER}", stars=1) is CheckoutRefusal.WRONG_PRICE
    assert await checkout(f"vs1:m50:{BUYER}", currency="USD") is CheckoutRefusal.WRONG_CURRENCY
    assert await checkout(f"vs1:m50:{BUYER}", buyer=99) is CheckoutRefusal.WRONG_BUYER


async def test_the_small_package_can_be_bought_three_times(world: World) -> None:
    for charge in ("a", "b", "c"):
        assert (
            await world.app.bus.handle(ApproveCheckout(BUYER, f"vs1:m10:{BUYER}", "XTR", 5)) is None
        )
        await world.app.bus.handle(pay(charge, f"vs1:m10:{BUYER}", 5))
    refusal = await world.app.bus.handle(ApproveCheckout(BUYER, f"vs1:m10:{BUYER}", "XTR", 5))
    assert refusal is CheckoutRefusal.LIMIT_REACHED
    assert await world.app.bus.handle(BuyMinutes(BUYER, BUYER, "m10")) is Purchase.LIMIT_REACHED


async def test_a_refund_returns_the_stars_and_takes_back_unspent_minutes(world: World) -> None:
    await world.app.bus.handle(pay("charge-9"))
    outcome = await world.app.bus.handle(RefundPayment("charge-9"))
    assert (outcome.refunded, outcome.minutes_taken) == (True, 50)
    assert world.stars.refunded == [(BUYER, "charge-9")]
    assert world.payments.rows["charge-9"].refunded_at is not None
    account = world.accounts.rows[BUYER]
    assert (account.balance, account.refunded) == (15, 50)


async def test_a_second_refund_says_it_was_already_refunded(world: World) -> None:
    await world.app.bus.handle(pay("charge-9"))
    await world.app.bus.handle(RefundPayment("charge-9"))

    again = await world.app.bus.handle(RefundPayment("charge-9"))

    assert (again.refunded, again.already_refunded, again.minutes_taken) == (False, True, 50)
    assert world.stars.refunded == [(BUYER, "charge-9")], "stars given back once"
    account = world.accounts.rows[BUYER]
    assert (account.balance, account.refunded) == (15, 50), "minutes taken back once"


async def test_a_refund_waits_while_jobs_in_progress_hold_the_minutes(world: World) -> None:
    """Decision: refuse (nothing refunded) while reserved minutes would make the refund take
    back less than the payment credited; once the jobs settle, the refund takes it all."""
    await world.app.bus.handle(pay("charge-9"))  # 15 trial + 50 = 65
    world.files.files["long"] = FakeAudio(60.0 * 60)  # 60 minutes, queued
    source = AudioSource(MediaKind.VOICE, "long", "long", 3600.0)
    await world.app.bus.handle(AcceptVoiceNote("busy", BUYER, BUYER, source))
    assert (world.accounts.rows[BUYER].balance, world.accounts.rows[BUYER].reserved) == (5, 60)

    waiting = await world.app.bus.handle(RefundPayment("charge-9"))

    assert not waiting.refunded and waiting.refusal is RefundRefusal.MINUTES_RESERVED
    assert waiting.minutes_reserved == 60
    assert world.stars.refunded == [] and world.payments.rows["charge-9"].refunded_at is None
    assert world.accounts.rows[BUYER].balance == 5

    world.clock.advance(3600)
    await world.app.bus.handle(FlushStuckJobs(older_than_seconds=1800))  # the job settles
    settled = await world.app.bus.handle(RefundPayment("charge-9"))

    assert (settled.refunded, settled.minutes_taken) == (True, 50)
    account = world.accounts.rows[BUYER]
    assert (account.balance, account.reserved, account.refunded) == (15, 0, 50)


async def test_a_refund_the_free_balance_covers_goes_through_beside_jobs(world: World) -> None:
    await world.app.bus.handle(pay("charge-9"))  # 65
    world.files.files["long"] = FakeAudio(150.0)
    source = AudioSource(MediaKind.VOICE, "long", "long", 150.0)
    await world.app.bus.handle(AcceptVoiceNote("busy", BUYER, BUYER, source))  # 3 reserved

    outcome = await world.app.bus.handle(RefundPayment("charge-9"))

    assert (outcome.refunded, outcome.minutes_taken) == (True, 50)
    assert (world.accounts.rows[BUYER].balance, world.accounts.rows[BUYER].reserved) == (12, 3)


async def test_a_payment_of_the_wrong_amount_is_recorded_not_credited_and_reported(
    world: World,
) -> None:
    outcome = await world.app.bus.handle(pay("charge-x", f"vs1:m8888:{BUYER}", 1))

    assert (outcome.credited, outcome.minutes, outcome.problem) == (
        False,
        0,
        PaymentProblem.WRONG_AMOUNT,
    )
    assert BUYER not in world.accounts.rows or world.accounts.rows[BUYER].purchased == 0
    record = world.payments.rows["charge-x"]
    assert (record.package_id, record.stars, record.minutes) == ("m8888", 1, 0)
    assert len(world.alerts.sent) == 1 and "charge-x" in world.alerts.sent[0]
    assert str(BUYER) in world.alerts.sent[0]

    again = await world.app.bus.handle(pay("charge-x", f"vs1:m8888:{BUYER}", 1))
    assert not again.credited and not again.first_seen
    assert len(world.alerts.sent) == 1, "the owner is alerted once per charge"


async def test_a_payment_in_another_currency_is_not_credited(world: World) -> None:
    outcome = await world.app.bus.handle(
        CompletePayment(BUYER, "charge-usd", f"vs1:m50:{BUYER}", "USD", 35)
    )

    assert not outcome.credited and outcome.problem is PaymentProblem.WRONG_CURRENCY
    assert world.payments.rows["charge-usd"].minutes == 0
    assert "charge-usd" in world.alerts.sent[0]


async def test_a_stale_or_unknown_payload_is_recorded_and_reported(world: World) -> None:
    stale = await world.app.bus.handle(pay("charge-old", f"vs1:m51:{BUYER}", 35))
    garbled = await world.app.bus.handle(pay("charge-bad", "free-minutes-please", 35))

    assert stale.problem is PaymentProblem.UNKNOWN_PACKAGE
    assert garbled.problem is PaymentProblem.BAD_PAYLOAD
    assert not stale.credited and not garbled.credited
    assert world.payments.rows["charge-old"].package_id == "unknown"
    assert [("charge-old" in a, "charge-bad" in a) for a in world.alerts.sent] == [
        (True, False),
        (False, True),
    ]
    assert world.accounts.rows.get(BUYER) is None or world.accounts.rows[BUYER].purchased == 0


async def test_an_uncredited_payment_can_be_refunded_taking_no_minutes(world: World) -> None:
    await world.app.bus.handle(pay("charge-x", f"vs1:m8888:{BUYER}", 1))

    outcome = await world.app.bus.handle(RefundPayment("charge-x"))

    assert (outcome.refunded, outcome.minutes_taken) == (True, 0)
    assert world.stars.refunded == [(BUYER, "charge-x")]


async def test_a_refused_refund_changes_nothing(world: World) -> None:
    await world.app.bus.handle(pay("charge-9"))
    world.stars.refuse = True
    outcome = await world.app.bus.handle(RefundPayment("charge-9"))
    assert not outcome.refunded and world.accounts.rows[BUYER].balance == 65
    missing = await world.app.bus.handle(RefundPayment("nope"))
    assert not missing.refunded and missing.reason == "no such payment"


async def test_owner_credit_and_low_balance_notice_once_per_crossing(world: World) -> None:
    assert await world.app.bus.handle(GrantMinutes(BUYER, 5)) == 20
    for index, minutes in enumerate((8, 8, 2)):
        name = f"f{index}"
        world.files.files[name] = FakeAudio(minutes * 60.0)
        source = AudioSource(MediaKind.VOICE, name, name, minutes * 60.0)
        await world.app.bus.handle(AcceptVoiceNote(f"r{index}", BUYER, BUYER, source))
    lows = [n for _, n in world.messenger.notices if n.reason is NoticeReason.LOW_BALANCE]
    assert [n.balance_minutes for n in lows] == [4], "20 -> 12 -> 4 crosses once, 4 -> 2 not"


async def test_flush_fails_stuck_jobs_and_releases_exactly_their_reservations(
    world: World,
) -> None:
    world.files.files["long"] = FakeAudio(150.0)
    source = AudioSource(MediaKind.VOICE, "long", "long", 150.0)
    await world.app.bus.handle(AcceptVoiceNote("stuck", BUYER, BUYER, source))
    assert world.accounts.rows[BUYER].reserved == 3
    world.clock.advance(3600)
    outcome = await world.app.bus.handle(FlushStuckJobs(older_than_seconds=1800))
    assert (outcome.jobs, outcome.minutes_released) == (1, 3)
    assert world.jobs.rows["stuck"].status is JobStatus.FAILED
    assert (world.accounts.rows[BUYER].balance, world.accounts.rows[BUYER].reserved) == (15, 0)
    report = await world.app.consumer.consume_one(0)
    assert report is not None and report.status is JobStatus.FAILED, "the queued copy is a no-op"
    assert world.recognizer.calls == 0


async def test_reports(world: World) -> None:
    await world.app.bus.handle(pay("c1"))
    world.files.files["a"] = FakeAudio(30.0)
    await world.app.bus.handle(
        AcceptVoiceNote("r", BUYER, BUYER, AudioSource(MediaKind.VOICE, "a", "a", 30.0))
    )
    stats = await world.app.reports.stats()
    assert (stats.users, stats.jobs_today, stats.minutes_today, stats.stars_week) == (1, 1, 1, 35)
    balance = await world.app.reports.balance(BUYER)
    assert (balance.balance, balance.used_this_month, len(balance.recent_jobs)) == (64, 1, 1)
    table = await world.app.reports.export("payments")
    assert table.columns[:5] == ("charge_id", "user_id", "package_id", "stars", "minutes")
    assert table.rows[0][:5] == ("c1", 11, "m50", 35, 50)


async def test_an_invoice_is_worded_in_the_buyers_language(world: World) -> None:
    await world.app.bus.handle(BuyMinutes(BUYER, BUYER, "m50", "ru"))
    await world.app.bus.handle(BuyMinutes(BUYER + 1, BUYER + 1, "m50", "en-GB"))
    [(title_ru, about_ru), (title_en, about_en)] = world.stars.wording
    assert (title_ru, about_ru) == ("50 мин", "50 минут расшифровки")
    assert (title_en, about_en) == ("50 min", "50 minutes of transcription")
