"""Properties of ``accept_payment``: a completed payment is credited only for exactly what
its package costs, in stars, by the buyer its invoice was made for; anything else is
recorded uncredited, with a reason and the charge id for the owner's alert."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from domain.catalogue import (
    DEFAULT_PACKAGES,
    STARS,
    Package,
    PaymentProblem,
    accept_payment,
    invoice_payload,
)

packages = st.sampled_from(DEFAULT_PACKAGES)
users = st.integers(min_value=1, max_value=2**53)
charge_ids = st.text(min_size=1, max_size=40)
amounts = st.integers(min_value=-(2**31), max_value=2**31)
currencies = st.one_of(st.just(STARS), st.text(max_size=5), st.sampled_from(["USD", "xtr"]))


@given(packages, users, charge_ids)
def test_the_exact_price_in_stars_credits_the_package(
    package: Package, buyer: int, charge_id: str
) -> None:
    decision = accept_payment(
        DEFAULT_PACKAGES,
        charge_id=charge_id,
        payload=invoice_payload(package, buyer),
        currency=STARS,
        total_amount=package.stars,
        buyer_id=buyer,
    )

    assert decision.credit
    assert not decision.alert_owner
    assert decision.problem is None
    assert decision.package == package
    assert decision.minutes == package.minutes
    assert decision.charge_id == charge_id


@given(packages, users, charge_ids, amounts)
def test_any_other_amount_credits_nothing_and_alerts(
    package: Package, buyer: int, charge_id: str, amount: int
) -> None:
    assume(amount != package.stars)

    decision = accept_payment(
        DEFAULT_PACKAGES,
        charge_id=charge_id,
        payload=invoice_payload(package, buyer),
        currency=STARS,
        total_amount=amount,
        buyer_id=buyer,
    )

    assert decision.problem is PaymentProblem.WRONG_AMOUNT
    assert not decision.credit and decision.alert_owner
    assert decision.minutes == 0
    assert decision.package == package  # recorded under the package it claimed
    assert decision.charge_id == charge_id


@given(packages, users, charge_ids, currencies)
def test_only_stars_are_accepted(
    package: Package, buyer: int, charge_id: str, currency: str
) -> None:
    decision = accept_payment(
        DEFAULT_PACKAGES,
        charge_id=charge_id,
        payload=invoice_payload(package, buyer),
        currency=currency,
        total_amount=package.stars,
        buyer_id=buyer,
    )

    assert decision.credit == (currency == STARS)
    if currency != STARS:
        assert decision.problem is PaymentProblem.WRONG_CURRENCY
        assert decision.minutes == 0


@given(packages, users, users, charge_ids)
def test_a_payload_made_for_someone_else_is_not_credited(
    package: Package, made_for: int, buyer: int, charge_id: str
) -> None:
    assume(made_for != buyer)

    decision = accept_payment(
        DEFAULT_PACKAGES,
        charge_id=charge_id,
        payload=invoice_payload(package, made_for),
        currency=STARS,
        total_amount=package.stars,
        buyer_id=buyer,
    )

    assert decision.problem is PaymentProblem.WRONG_BUYER
    assert decision.minutes == 0


@given(packages, users, charge_ids)
def test_a_package_no_longer_sold_is_not_credited(
    package: Package, buyer: int, charge_id: str
) -> None:
    """A stale invoice: the catalogue changed after it was sent."""
    others = tuple(p for p in DEFAULT_PACKAGES if p.package_id != package.package_id)

    decision = accept_payment(
        others,
        charge_id=charge_id,
        payload=invoice_payload(package, buyer),
        currency=STARS,
        total_amount=package.stars,
        buyer_id=buyer,
    )

    assert decision.problem is PaymentProblem.UNKNOWN_PACKAGE
    assert decision.package is None and decision.minutes == 0 and decision.alert_owner


@given(packages, users, charge_ids)
def test_a_price_changed_while_the_invoice_was_open_is_not_credited(
    package: Package, buyer: int, charge_id: str
) -> None:
    repriced = tuple(
        Package(p.package_id, p.minutes, p.stars + 1, p.max_purchases) for p in DEFAULT_PACKAGES
    )

    decision = accept_payment(
        repriced,
        charge_id=charge_id,
        payload=invoice_payload(package, buyer),
        currency=STARS,
        total_amount=package.stars,
        buyer_id=buyer,
    )

    assert decision.problem is PaymentProblem.WRONG_AMOUNT
    assert decision.minutes == 0


@given(st.text(max_size=60), users, charge_ids, currencies, amounts)
def test_credit_only_for_exactly_the_catalogue_s_terms(
    payload: str, buyer: int, charge_id: str, currency: str, amount: int
) -> None:
    """Whatever arrives, minutes are credited only when some package's invoice payload for
    this buyer, its price and stars all match; nothing raises."""
    decision = accept_payment(
        DEFAULT_PACKAGES,
        charge_id=charge_id,
        payload=payload,
        currency=currency,
        total_amount=amount,
        buyer_id=buyer,
    )

    matching = [
        p
        for p in DEFAULT_PACKAGES
        if payload == invoice_payload(p, buyer) and currency == STARS and amount == p.stars
    ]
    assert decision.credit == bool(matching)
    assert decision.minutes == (matching[0].minutes if matching else 0)
    assert decision.credit != (decision.problem is not None)
    assert decision.charge_id == charge_id


@given(st.sampled_from(["", "vs1", "vs1:m50", "vs1:m50:", "vs1:m50:abc", "vs2:m50:1", "x:y:z"]))
def test_an_unreadable_payload_is_named_as_such(payload: str) -> None:
    decision = accept_payment(
        DEFAULT_PACKAGES,
        charge_id="c1",
        payload=payload,
        currency=STARS,
        total_amount=35,
        buyer_id=1,
    )

    assert decision.problem is PaymentProblem.BAD_PAYLOAD
    assert decision.minutes == 0


def test_a_boolean_amount_is_not_the_one_star_it_equals() -> None:
    one_star = (Package("m1", 1, 1),)

    decision = accept_payment(
        one_star,
        charge_id="c1",
        payload=invoice_payload(one_star[0], 7),
        currency=STARS,
        total_amount=True,
        buyer_id=7,
    )

    assert decision.problem is PaymentProblem.WRONG_AMOUNT
