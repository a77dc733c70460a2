"""Use cases: buying minutes with Telegram Stars, the owner's credits, and refunds.

A payment is credited once per ``telegram_payment_charge_id``: the charge id is recorded in
the account in the same atomic write as the minutes, so a successful_payment delivered
twice, or retried after a crash, changes nothing the second time.

A ``successful_payment`` is credited only when ``domain.catalogue.accept_payment`` finds it
is exactly what its package costs (stars, amount, payload, buyer); anything else is
recorded with 0 minutes, and the owner is alerted once with its charge id so it can be
refunded. A refund takes back only minutes that are free: while the buyer has minutes
reserved for jobs in progress and the balance alone cannot cover the payment, it is
refused (nothing refunded) until the jobs settle, so a released reservation can never
hand back minutes of a refunded payment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from enum import StrEnum

import attrs

from application.commands import (
    ApproveCheckout,
    BuyMinutes,
    CompletePayment,
    GrantMinutes,
    RefundPayment,
)
from application.errors import PaymentRefused
from application.minutes import MinutesBook
from application.ports import (
    Clock,
    OwnerAlerts,
    PaymentRecord,
    PaymentRepository,
    StarsGateway,
)
from application.wording import say
from domain.catalogue import (
    CheckoutRefusal,
    Package,
    PaymentProblem,
    accept_payment,
    check_checkout,
    find_package,
    invoice_payload,
    may_buy,
    parse_payload,
)
from domain.ledger import MinutesAccount

log = logging.getLogger(__name__)
UNPRICED = "unknown"  # the package id recorded for a payment whose payload names none


class Purchase(StrEnum):
    INVOICE_SENT = "invoice_sent"
    UNKNOWN_PACKAGE = "unknown_package"
    LIMIT_REACHED = "limit_reached"


@attrs.frozen
class PaymentOutcome:
    """``credited``: this call credited the charge (``minutes`` of it); ``charge_minutes``:
    what the charge credited, now or before (what a confirmation sent again names)."""

    credited: bool
    minutes: int
    balance: int
    charge_minutes: int = 0
    problem: PaymentProblem | None = None  # why the payment was recorded, not credited
    first_seen: bool = True  # False: this charge id was recorded before


class RefundRefusal(StrEnum):
    NO_SUCH_PAYMENT = "no such payment"
    MINUTES_RESERVED = "minutes reserved for jobs in progress"
    GATEWAY = "refused by Telegram"


@attrs.frozen
class RefundOutcome:
    """``refunded``: this call gave the stars back; ``already_refunded``: an earlier one
    did (nothing done now); otherwise ``refusal`` says why not (``reason`` in words)."""

    refunded: bool
    minutes_taken: int = 0
    reason: str | None = None
    already_refunded: bool = False
    refusal: RefundRefusal | None = None
    minutes_reserved: int = 0


class Billing:
    def __init__(
        self,
        *,
        packages: Sequence[Package],
        minutes: MinutesBook,
        payments: PaymentRepository,
        gateway: StarsGateway,
        clock: Clock,
        alerts: OwnerAlerts,
    ) -> None:
        self.packages = tuple(packages)
        self._minutes = minutes
        self._payments = payments
        self._gateway = gateway
        self._clock = clock
        self._alerts = alerts

    async def buy(self, command: BuyMinutes) -> Purchase:
        package = find_package(self.packages, command.package_id)
        if package is None:
            return Purchase.UNKNOWN_PACKAGE
        account = await self._minutes.account(command.user_id)
        if account is not None and not may_buy(package, account.purchases):
            return Purchase.LIMIT_REACHED
        await self._gateway.send_invoice(
            command.chat_id,
            title=say("invoice.title", command.language_code, minutes=package.minutes),
            description=say("invoice.description", command.language_code, minutes=package.minutes),
            payload=invoice_payload(package, command.user_id),
            stars=package.stars,
        )
        return Purchase.INVOICE_SENT

    async def approve(self, command: ApproveCheckout) -> CheckoutRefusal | None:
        parsed = parse_payload(command.payload)
        purchases = {}
        if parsed is not None and parsed[1] == command.buyer_id:
            account = await self._minutes.account(command.buyer_id)
            purchases = dict(account.purchases) if account is not None else {}
        return check_checkout(
            self.packages,
            payload=command.payload,
            currency=command.currency,
            total_amount=command.total_amount,
            buyer_id=command.buyer_id,
            purchases=purchases,
        )

    async def complete(self, command: CompletePayment) -> PaymentOutcome:
        decision = accept_payment(
            self.packages,
            charge_id=command.charge_id,
            payload=command.payload,
            currency=command.currency,
            total_amount=command.total_amount,
            buyer_id=command.buyer_id,
        )
        if not decision.credit or decision.package is None:
            return await self._record_uncredited(command, decision.package, decision.problem)
        package = decision.package

        def credit(account: MinutesAccount) -> tuple[bool, int, int]:
            credited = account.purchase(command.charge_id, package.package_id, package.minutes)
            return credited, account.balance, account.payments.get(command.charge_id, 0)

        credited, balance, charge_minutes = await self._minutes.change(command.buyer_id, credit)
        first_seen = await self._payments.add(
            self._record(command, package.package_id, package.minutes)
        )
        return PaymentOutcome(
            credited,
            package.minutes if credited else 0,
            balance,
            charge_minutes,
            first_seen=first_seen,
        )

    async def _record_uncredited(
        self,
        command: CompletePayment,
        package: Package | None,
        problem: PaymentProblem | None,
    ) -> PaymentOutcome:
        """Telegram took stars for something that is not what a package costs: keep the
        payment (0 minutes) for the owner to refund, and tell them once, with its charge
        id. A storage failure raises: the update is retried, the alert sent then."""
        package_id = package.package_id if package is not None else UNPRICED
        first_seen = await self._payments.add(self._record(command, package_id, 0))
        if first_seen:
            log.error(
                "payment %s not credited (%s): payload %r, %r %s",
                command.charge_id,
                problem,
                command.payload,
                command.total_amount,
                command.currency,
            )
            await self._alerts.alert(
                f"Payment NOT credited ({problem}): charge {command.charge_id}, "
                f"user {command.buyer_id}, {command.total_amount!r} {command.currency!r}, "
                f"payload {command.payload!r}. Refund it: /refund {command.charge_id}"
            )
        balance = await self._minutes.balance_of(command.buyer_id)
        return PaymentOutcome(False, 0, balance, 0, problem=problem, first_seen=first_seen)

    def _record(self, command: CompletePayment, package_id: str, minutes: int) -> PaymentRecord:
        return PaymentRecord(
            charge_id=command.charge_id,
            user_id=command.buyer_id,
            package_id=package_id,
            stars=command.total_amount,
            minutes=minutes,
            paid_at=self._clock.now(),
        )

    async def grant(self, command: GrantMinutes) -> int:
        def credit(account: MinutesAccount) -> int:
            account.credit(command.minutes, "owner")
            return account.balance

        return await self._minutes.change(command.user_id, credit)

    async def refund(self, command: RefundPayment) -> RefundOutcome:
        payment = await self._payments.get(command.charge_id)
        if payment is None:
            return RefundOutcome(
                False,
                reason=RefundRefusal.NO_SUCH_PAYMENT.value,
                refusal=RefundRefusal.NO_SUCH_PAYMENT,
            )
        if payment.refunded_at is not None:
            taken = await self._minutes.change(payment.user_id, _take_back(payment.charge_id))
            return RefundOutcome(False, taken, already_refunded=True)
        account = await self._minutes.account(payment.user_id)
        if account is not None and _held_by_jobs(account, payment.charge_id):
            return RefundOutcome(
                False,
                reason=RefundRefusal.MINUTES_RESERVED.value,
                refusal=RefundRefusal.MINUTES_RESERVED,
                minutes_reserved=account.reserved,
            )
        if account is None or payment.charge_id not in account.refunds:
            # (a charge already taken back was refunded by a try that then failed to
            # record it: Telegram has given the stars back, do not ask again)
            try:
                await self._gateway.refund(payment.user_id, payment.charge_id)
            except PaymentRefused as refusal:
                return RefundOutcome(False, reason=str(refusal), refusal=RefundRefusal.GATEWAY)
        taken = await self._minutes.change(payment.user_id, _take_back(payment.charge_id))
        await self._payments.mark_refunded(payment.charge_id, self._clock.now())
        return RefundOutcome(True, taken)


def _held_by_jobs(account: MinutesAccount, charge_id: str) -> bool:
    """Jobs in progress hold minutes the refund would otherwise take back: the balance
    alone cannot cover what the payment credited."""
    credited = account.payments.get(charge_id, 0)
    untaken = charge_id not in account.refunds
    return untaken and account.reserved > 0 and account.balance < credited


def _take_back(charge_id: str) -> Callable[[MinutesAccount], int]:
    def take_back(account: MinutesAccount) -> int:
        """The payment's unspent minutes, once; a payment credited nothing takes nothing."""
        if charge_id in account.refunds:
            return account.refunds[charge_id]
        if charge_id not in account.payments:
            return 0
        return account.refund(charge_id)

    return take_back
