"""Random purchases (charge ids repeated), refunds, owner credits, reservations, resizes,
commits and releases on one ``MinutesAccount``, checked against a plain model of what
each should do: a charge is credited once, a refund takes back what is left of it and
only once, a resize moves only the difference, and the books balance after every step.
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.errors import InsufficientMinutes, UnknownPayment, UnknownReservation
from domain.events import MinutesPurchased, MinutesRefunded
from domain.ledger import MinutesAccount

CHARGES = st.sampled_from([f"charge-{n}" for n in range(4)])
PACKAGES = st.sampled_from(["m10", "m60"])
RESERVATIONS = st.sampled_from([f"job-{n}" for n in range(4)])


class Payments(RuleBasedStateMachine):
    @initialize(trial=st.integers(0, 20))
    def open_account(self, trial: int) -> None:
        self.account = MinutesAccount(user_id=1)
        self.account.grant_trial(trial)
        self.paid: dict[str, int] = {}
        self.bought: dict[str, int] = {}
        self.taken: dict[str, int] = {}

    @rule(charge=CHARGES, package=PACKAGES, minutes=st.integers(1, 100))
    def purchase(self, charge: str, package: str, minutes: int) -> None:
        before = self.account.balance
        credited = self.account.purchase(charge, package, minutes)
        assert credited is (charge not in self.paid), "a charge is credited once"
        if credited:
            self.paid[charge] = minutes
            self.bought[package] = self.bought.get(package, 0) + 1
            assert self.account.balance == before + minutes
        else:
            assert self.account.balance == before

    @rule(charge=CHARGES)
    def refund(self, charge: str) -> None:
        before = self.account.balance
        if charge not in self.paid or charge in self.taken:
            with pytest.raises(UnknownPayment):
                self.account.refund(charge)
            assert self.account.balance == before
            return
        taken = self.account.refund(charge)
        assert taken == min(self.paid[charge], before), "what is left of it, no more"
        assert self.account.balance == before - taken
        self.taken[charge] = taken

    @rule(minutes=st.integers(1, 30))
    def owner_credits(self, minutes: int) -> None:
        before = self.account.balance
        self.account.credit(minutes, "owner")
        assert self.account.balance == before + minutes

    @rule(minutes=st.integers(-3, 0))
    def no_operation_takes_a_non_positive_amount(self, minutes: int) -> None:
        with pytest.raises(ValueError):
            self.account.purchase("charge-x", "m10", minutes)
        with pytest.raises(ValueError):
            self.account.credit(minutes, "owner")
        with pytest.raises(ValueError):
            self.account.reserve("job-x", minutes)
        with pytest.raises(ValueError):
            self.account.resize("job-x", minutes)

    @rule(reservation=RESERVATIONS, minutes=st.integers(1, 60))
    def reserve(self, reservation: str, minutes: int) -> None:
        if self.account.holds(reservation):
            return
        before = self.account.balance
        if minutes > before:
            with pytest.raises(InsufficientMinutes):
                self.account.reserve(reservation, minutes)
            assert self.account.balance == before
        else:
            self.account.reserve(reservation, minutes)
            assert self.account.balance == before - minutes

    @rule(reservation=RESERVATIONS, minutes=st.integers(1, 60))
    def resize(self, reservation: str, minutes: int) -> None:
        before = self.account.balance
        held = self.account.reservations.get(reservation)
        if held is None:
            with pytest.raises(UnknownReservation):
                self.account.resize(reservation, minutes)
        elif minutes - held > before:
            with pytest.raises(InsufficientMinutes) as refused:
                self.account.resize(reservation, minutes)
            assert (refused.value.needed, refused.value.balance) == (minutes, before + held)
            assert self.account.reservations[reservation] == held
        else:
            self.account.resize(reservation, minutes)
            assert self.account.reservations[reservation] == minutes
            assert self.account.balance == before - (minutes - held)
            return
        assert self.account.balance == before

    @rule(reservation=RESERVATIONS, commit=st.booleans())
    def settle(self, reservation: str, commit: bool) -> None:
        held = self.account.reservations.get(reservation)
        if held is None:
            with pytest.raises(UnknownReservation):
                self.account.release(reservation)
            return
        before = (self.account.balance, self.account.spent)
        if commit:
            assert self.account.commit(reservation) == held
            assert (self.account.balance, self.account.spent) == (before[0], before[1] + held)
        else:
            assert self.account.release(reservation) == held
            assert (self.account.balance, self.account.spent) == (before[0] + held, before[1])

    @invariant()
    def the_books_balance(self) -> None:
        a = self.account
        assert a.balance >= 0
        assert a.balance + a.reserved + a.spent == a.trial + a.purchased + a.granted - a.refunded

    @invariant()
    def payments_and_refunds_are_recorded_once_each(self) -> None:
        a = self.account
        assert a.payments == self.paid and a.refunds == self.taken
        assert a.purchases == self.bought
        assert a.purchased == sum(self.paid.values())
        assert a.refunded == sum(self.taken.values())
        bought = [e for e in a.events if isinstance(e, MinutesPurchased)]
        refunded = [e for e in a.events if isinstance(e, MinutesRefunded)]
        assert sorted((e.charge_id, e.minutes) for e in bought) == sorted(self.paid.items())
        assert sorted((e.charge_id, e.minutes) for e in refunded) == sorted(self.taken.items())


Payments.TestCase.settings = settings(max_examples=100, stateful_step_count=40, deadline=None)
TestPayments = Payments.TestCase
