"""The Stop button's charge, the draft of a long recording, and the learned throughput
behind its ETA: pure rules, checked as properties."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from domain.cancellation import DRAFT_CHARS, cancellation_minutes, draft
from domain.ledger import MinutesAccount
from domain.policies import price_minutes
from domain.throughput import eta_seconds, updated_rate

durations = st.floats(1, 3 * 3600, allow_nan=False)
words = st.text(alphabet="abcdefgh ", min_size=0, max_size=300)


@given(duration=durations, share=st.floats(0, 1))
def test_a_stop_never_costs_more_than_the_whole_recording(duration: float, share: float) -> None:
    price = price_minutes(duration)
    charge = cancellation_minutes(share * duration, price)
    assert 0 <= charge <= price
    if share * duration > 0:
        assert charge == min(price, math.ceil(share * duration / 60))


@given(price=st.integers(0, 200), nothing=st.sampled_from([0.0, -1.0, -0.0]))
def test_nothing_recognized_costs_nothing(price: int, nothing: float) -> None:
    assert cancellation_minutes(nothing, price) == 0


@given(duration=durations, shares=st.tuples(st.floats(0, 1), st.floats(0, 1)))
def test_more_recognized_never_costs_less(duration: float, shares: tuple[float, float]) -> None:
    low, high = sorted(shares)
    price = price_minutes(duration)
    assert cancellation_minutes(low * duration, price) <= cancellation_minutes(
        high * duration, price
    )


@given(held=st.integers(1, 500), charge=st.integers(0, 600), balance=st.integers(0, 100))
def test_settling_a_stopped_job_charges_the_part_and_gives_the_rest_back(
    held: int, charge: int, balance: int
) -> None:
    account = MinutesAccount(1)
    account.credit(held + balance, "test")
    account.reserve("j", held)
    charged = account.commit_part("j", charge)
    assert charged == min(charge, held)
    assert (account.spent, account.balance, account.reserved) == (
        charged,
        held + balance - charged,
        0,
    )
    assert account.balance + account.reserved + account.spent == account.credited


@given(texts=st.lists(words, min_size=0, max_size=12), missing=st.integers(0, 12))
def test_the_draft_is_the_recording_from_its_start_in_order(texts: list[str], missing: int) -> None:
    """Chunks arrive in any order; the draft only shows them from the first without a
    gap, in order, about ``DRAFT_CHARS`` long at most."""
    arrived = {i: t for i, t in enumerate(texts) if i != missing}
    shown = draft(arrived)
    prefix = [t.strip() for i, t in enumerate(texts) if i < missing]
    whole = " ".join(t for t in prefix if t)
    assert len(shown) <= DRAFT_CHARS + 1
    assert whole.startswith(shown.removesuffix("…"))
    if len(whole) <= DRAFT_CHARS:
        assert shown == whole


@given(texts=st.lists(words, min_size=1, max_size=12))
def test_the_draft_only_grows_as_chunks_arrive(texts: list[str]) -> None:
    arrived: dict[int, str] = {}
    before = ""
    for index, text in enumerate(texts):
        arrived[index] = text
        now = draft(arrived)
        assert now.removesuffix("…").startswith(before.removesuffix("…"))
        before = now


rates = st.floats(0.001, 10, allow_nan=False)


@given(previous=st.none() | rates, measured=rates)
def test_the_learned_rate_lies_between_the_old_and_the_new(
    previous: float | None, measured: float
) -> None:
    rate = updated_rate(previous, measured)
    if previous is None:
        assert rate == measured
    else:
        assert min(previous, measured) - 1e-12 <= rate <= max(previous, measured) + 1e-12


@given(previous=st.none() | rates, bad=st.sampled_from([0.0, -1.0, math.inf, math.nan]))
def test_a_broken_measurement_changes_nothing(previous: float | None, bad: float) -> None:
    assert updated_rate(previous, bad) == (previous if previous is not None else 0.0)


@given(
    rate=st.none() | rates,
    audio=durations,
    elapsed=st.floats(0, 3600),
    total=st.integers(1, 80),
    data=st.data(),
)
def test_the_eta_is_never_negative_and_zero_when_done(
    rate: float | None, audio: float, elapsed: float, total: int, data: st.DataObject
) -> None:
    done = data.draw(st.integers(0, total))
    eta = eta_seconds(rate, audio, elapsed, done, total)
    if done == total:
        assert eta == 0.0
    elif eta is not None:
        assert eta >= 0
    else:
        assert rate is None and (done == 0 or elapsed == 0), "unknown only without data"
