"""What minutes cost in Telegram Stars, and the rules a checkout must pass.

The invoice payload names the package and the buyer (``vs1:<package>:<user>``) so that a
pre-checkout query can be checked against the catalogue with nothing else to look up:
the reference bot compared payloads against a different naming scheme and refused every
checkout; one function here makes the payload and one reads it back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

import attrs

STARS = "XTR"
PAYLOAD_VERSION = "vs1"


@attrs.frozen
class Package:
    package_id: str
    minutes: int = attrs.field(validator=attrs.validators.gt(0))
    stars: int = attrs.field(validator=attrs.validators.gt(0))
    max_purchases: int | None = None


DEFAULT_PACKAGES: tuple[Package, ...] = (
    Package("m10", 10, 5, max_purchases=3),
    Package("m50", 50, 35),
    Package("m200", 200, 119),
    Package("m1000", 1000, 549),
    Package("m3000", 3000, 1399),
    Package("m8888", 8888, 4444),
)


def parse_packages(spec: str) -> tuple[Package, ...]:
    """``"10:5:3,50:35"`` -> packages of 10 min for 5 stars (3 purchases at most), 50 for 35.

    Raises ValueError naming the bad entry."""
    packages = []
    for entry in (part.strip() for part in spec.split(",") if part.strip()):
        fields = entry.split(":")
        if len(fields) not in (2, 3) or not all(f.isdigit() for f in fields):
            raise ValueError(f"package {entry!r} is not MINUTES:STARS[:MAX_PURCHASES]")
        minutes, stars = int(fields[0]), int(fields[1])
        limit = int(fields[2]) if len(fields) == 3 else None
        packages.append(Package(f"m{minutes}", minutes, stars, limit))
    if not packages:
        raise ValueError("no packages defined")
    if len({p.package_id for p in packages}) != len(packages):
        raise ValueError("two packages have the same number of minutes")
    return tuple(packages)


def invoice_payload(package: Package, user_id: int) -> str:
    return f"{PAYLOAD_VERSION}:{package.package_id}:{user_id}"


def parse_payload(payload: str) -> tuple[str, int] | None:
    """(package id, user id) of a payload made by ``invoice_payload``; None otherwise."""
    parts = payload.split(":") if isinstance(payload, str) else []
    if len(parts) != 3 or parts[0] != PAYLOAD_VERSION:
        return None
    package_id, user = parts[1], parts[2]
    if not package_id or not (user.isascii() and user.isdigit()) or len(user) > 20:
        return None
    return package_id, int(user)


class CheckoutRefusal(StrEnum):
    BAD_PAYLOAD = "bad_payload"
    UNKNOWN_PACKAGE = "unknown_package"
    WRONG_CURRENCY = "wrong_currency"
    WRONG_PRICE = "wrong_price"
    WRONG_BUYER = "wrong_buyer"
    LIMIT_REACHED = "limit_reached"


def find_package(packages: Sequence[Package], package_id: str) -> Package | None:
    return next((p for p in packages if p.package_id == package_id), None)


def check_checkout(
    packages: Sequence[Package],
    *,
    payload: str,
    currency: str,
    total_amount: int,
    buyer_id: int,
    purchases: Mapping[str, int],
) -> CheckoutRefusal | None:
    """Why this checkout must be refused, or None when it may go through."""
    parsed = parse_payload(payload)
    if parsed is None:
        return CheckoutRefusal.BAD_PAYLOAD
    package_id, user_id = parsed
    package = find_package(packages, package_id)
    if package is None:
        return CheckoutRefusal.UNKNOWN_PACKAGE
    if currency != STARS:
        return CheckoutRefusal.WRONG_CURRENCY
    if total_amount != package.stars:
        return CheckoutRefusal.WRONG_PRICE
    if user_id != buyer_id:
        return CheckoutRefusal.WRONG_BUYER
    if may_buy(package, purchases) is False:
        return CheckoutRefusal.LIMIT_REACHED
    return None


class PaymentProblem(StrEnum):
    """Why a payment Telegram reports as made must not be credited."""

    BAD_PAYLOAD = "bad_payload"
    UNKNOWN_PACKAGE = "unknown_package"
    WRONG_CURRENCY = "wrong_currency"
    WRONG_AMOUNT = "wrong_amount"
    WRONG_BUYER = "wrong_buyer"


@attrs.frozen
class PaymentDecision:
    """What to do with a ``successful_payment``: credit the package's minutes, or record
    the payment uncredited and alert the owner with its charge id (to refund it)."""

    charge_id: str
    package: Package | None
    problem: PaymentProblem | None

    @property
    def credit(self) -> bool:
        return self.problem is None

    @property
    def minutes(self) -> int:
        """Minutes to credit: the package's, or 0 for a payment that is only recorded."""
        return self.package.minutes if self.package is not None and self.credit else 0

    @property
    def alert_owner(self) -> bool:
        return not self.credit


def accept_payment(
    packages: Sequence[Package],
    *,
    charge_id: str,
    payload: str,
    currency: str,
    total_amount: int,
    buyer_id: int,
) -> PaymentDecision:
    """Credit a completed payment only when it is exactly what its package costs.

    The pre-checkout check ran before the stars were taken, but a ``successful_payment``
    is not trusted on its own: a forged update (webhook secret leaked) or a price changed
    while an invoice was open must not credit minutes that were not paid for. The
    purchase limit is not checked again: the buyer paid the right price, so refusing the
    minutes afterwards would take stars for nothing.
    """
    parsed = parse_payload(payload)
    if parsed is None:
        return PaymentDecision(charge_id, None, PaymentProblem.BAD_PAYLOAD)
    package_id, user_id = parsed
    package = find_package(packages, package_id)
    if package is None:
        return PaymentDecision(charge_id, None, PaymentProblem.UNKNOWN_PACKAGE)
    problem = None
    if currency != STARS:
        problem = PaymentProblem.WRONG_CURRENCY
    elif type(total_amount) is not int or total_amount != package.stars:
        problem = PaymentProblem.WRONG_AMOUNT
    elif user_id != buyer_id:
        problem = PaymentProblem.WRONG_BUYER
    return PaymentDecision(charge_id, package, problem)


def may_buy(package: Package, purchases: Mapping[str, int]) -> bool:
    bought = purchases.get(package.package_id, 0)
    return package.max_purchases is None or bought < package.max_purchases


def low_balance_crossed(before: int, after: int, threshold: int) -> bool:
    """A balance that just fell below the threshold (once per crossing, not every job)."""
    return before >= threshold > after
