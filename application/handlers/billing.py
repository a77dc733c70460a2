"""Use cases: buying minutes with Telegram Stars, the owner's credits, and refunds.

A payment is credited once per ``telegram_payment_charge_id``: the charge id is recorded in
the account in the same atomic write as the minutes, so a successful_payment delivered
twice, or retried after a crash, changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
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
from application.ports import Clock, PaymentRecord, PaymentRepository, StarsGateway
from domain.catalogue import (
    STARS,
    CheckoutRefusal,
    Package,
    check_checkout,
    find_package,
    invoice_payload,
    may_buy,
    parse_payload,
)
from domain.errors import UnknownPayment
from domain.ledger import MinutesAccount

log = logging.getLogger(__name__)


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


@attrs.frozen
class RefundOutcome:
    refunded: bool
    minutes_taken: int = 0
    reason: str | None = None


class Billing:
    def __init__(
        self,
        *,
        packages: Sequence[Package],
        minutes: MinutesBook,
        payments: PaymentRepository,
        gateway: StarsGateway,
        clock: Clock,
    ) -> None:
        self.packages = tuple(packages)
        self._minutes = minutes
        self._payments = payments
        self._gateway = gateway
        self._clock = clock

    async def buy(self, command: BuyMinutes) -> Purchase:
        package = find_package(self.packages, command.package_id)
        if package is None:
            return Purchase.UNKNOWN_PACKAGE
        account = await self._minutes.account(command.user_id)
        if account is not None and not may_buy(package, account.purchases):
            return Purchase.LIMIT_REACHED
        await self._gateway.send_invoice(
            command.chat_id,
            title=f"{package.minutes} min",
            description=f"{package.minutes} minutes of transcription",
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
        parsed = parse_payload(command.payload)
        package = find_package(self.packages, parsed[0]) if parsed else None
        if package is None or command.currency != STARS:
            # Telegram took the stars for something we cannot name: log loudly, keep it
            # for the owner to see, credit nothing we cannot price.
            log.error("payment %s has an unknown payload %r", command.charge_id, command.payload)
            package = Package("unknown", 1, max(1, command.total_amount))
            minutes = 0
        else:
            minutes = package.minutes

        def credit(account: MinutesAccount) -> tuple[bool, int, int]:
            credited = minutes > 0 and account.purchase(
                command.charge_id, package.package_id, minutes
            )
            return credited, account.balance, account.payments.get(command.charge_id, 0)

        credited, balance, charge_minutes = await self._minutes.change(command.buyer_id, credit)
        await self._payments.add(
            PaymentRecord(
                charge_id=command.charge_id,
                user_id=command.buyer_id,
                package_id=package.package_id,
                stars=command.total_amount,
                minutes=minutes,
                paid_at=self._clock.now(),
            )
        )
        return PaymentOutcome(credited, minutes if credited else 0, balance, charge_minutes)

    async def grant(self, command: GrantMinutes) -> int:
        def credit(account: MinutesAccount) -> int:
            account.credit(command.minutes, "owner")
            return account.balance

        return await self._minutes.change(command.user_id, credit)

    async def refund(self, command: RefundPayment) -> RefundOutcome:
        payment = await self._payments.get(command.charge_id)
        if payment is None:
            return RefundOutcome(False, reason="no such payment")
        if payment.refunded_at is None:
            try:
                await self._gateway.refund(payment.user_id, payment.charge_id)
            except PaymentRefused as refusal:
                return RefundOutcome(False, reason=str(refusal))

        def take_back(account: MinutesAccount) -> int:
            try:
                return account.refund(payment.charge_id)
            except UnknownPayment:
                return account.refunds.get(payment.charge_id, 0)

        taken = await self._minutes.change(payment.user_id, take_back)
        if payment.refunded_at is None:
            await self._payments.mark_refunded(payment.charge_id, self._clock.now())
        return RefundOutcome(True, taken)
