"""Properties of the package catalogue's rules before a payment: the ``PACKAGES`` setting
read back, the pre-checkout check, the purchase limit and the low-balance warning."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.catalogue import (
    DEFAULT_PACKAGES,
    STARS,
    CheckoutRefusal,
    Package,
    check_checkout,
    invoice_payload,
    low_balance_crossed,
    may_buy,
    parse_packages,
)

entries = st.lists(
    st.tuples(st.integers(1, 10_000), st.integers(1, 10_000), st.none() | st.integers(0, 9)),
    min_size=1,
    max_size=6,
    unique_by=lambda e: e[0],
)


@given(entries, st.sampled_from([",", ", ", " , "]))
def test_a_packages_setting_reads_back_as_written(
    written: list[tuple[int, int, int | None]], separator: str
) -> None:
    spec = separator.join(
        f"{m}:{s}" if limit is None else f"{m}:{s}:{limit}" for m, s, limit in written
    )
    assert parse_packages(spec) == tuple(Package(f"m{m}", m, s, lim) for m, s, lim in written)


@pytest.mark.parametrize(
    "spec", ["", " , ", "10", "10:5:3:1", "10:x", "-10:5", "10:5,10:7", "10:5:", "0:5"]
)
def test_a_packages_setting_that_is_not_minutes_stars_limit_is_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_packages(spec)


@given(
    package=st.sampled_from(DEFAULT_PACKAGES),
    made_for=st.integers(1, 3),
    buyer=st.integers(1, 3),
    currency=st.sampled_from([STARS, STARS, "USD"]),
    price_change=st.sampled_from([0, 0, 0, 1, -1]),
    bought=st.integers(0, 5),
)
def test_a_checkout_goes_through_only_on_the_catalogue_s_terms(
    *, package: Package, made_for: int, buyer: int, currency: str, price_change: int, bought: int
) -> None:
    purchases = {package.package_id: bought}
    refusal = check_checkout(
        DEFAULT_PACKAGES,
        payload=invoice_payload(package, made_for),
        currency=currency,
        total_amount=package.stars + price_change,
        buyer_id=buyer,
        purchases=purchases,
    )
    if currency != STARS:
        assert refusal is CheckoutRefusal.WRONG_CURRENCY
    elif price_change:
        assert refusal is CheckoutRefusal.WRONG_PRICE
    elif made_for != buyer:
        assert refusal is CheckoutRefusal.WRONG_BUYER
    elif package.max_purchases is not None and bought >= package.max_purchases:
        assert refusal is CheckoutRefusal.LIMIT_REACHED
    else:
        assert refusal is None


def test_a_bad_or_unknown_payload_is_refused_as_such() -> None:
    terms = {"currency": STARS, "total_amount": 5, "buyer_id": 1, "purchases": {}}
    assert check_checkout(DEFAULT_PACKAGES, payload="x", **terms) is CheckoutRefusal.BAD_PAYLOAD
    unknown = invoice_payload(Package("m7", 7, 5), 1)
    assert check_checkout(DEFAULT_PACKAGES, payload=unknown, **terms) is (
        CheckoutRefusal.UNKNOWN_PACKAGE
    )


@given(st.integers(1, 5), st.integers(0, 8))
def test_a_limited_package_may_be_bought_while_under_its_limit(limit: int, bought: int) -> None:
    limited = Package("m10", 10, 5, max_purchases=limit)
    assert may_buy(limited, {"m10": bought}) is (bought < limit)
    assert may_buy(limited, {}) and may_buy(Package("m50", 50, 35), {"m50": bought})


@given(st.integers(0, 100), st.lists(st.integers(0, 30), max_size=10), st.integers(1, 60))
def test_the_low_balance_warning_fires_once_as_the_balance_falls_below(
    start: int, spends: list[int], threshold: int
) -> None:
    balances = [start]
    for spent in spends:
        balances.append(max(0, balances[-1] - spent))
    warnings = sum(low_balance_crossed(a, b, threshold) for a, b in itertools.pairwise(balances))
    assert warnings == (1 if start >= threshold > balances[-1] else 0)
    assert low_balance_crossed(threshold, threshold - 1, threshold)
    assert not low_balance_crossed(threshold, threshold, threshold)
