"""The domain's rules exactly at their edges, where a property's random inputs seldom
land: each test here kills mutants that ``make mutation`` found surviving (a ``<`` for
a ``<=``, a shifted constant, a setting that is not kept)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.chats import Chat, ChatMode
from domain.errors import InsufficientMinutes
from domain.events import SponsorRanOut
from domain.ledger import MinutesAccount
from domain.policies import (
    COPY_CEILING_KBPS,
    STANDARD_OPUS,
    ProcessingMode,
    SourceAudio,
    is_plausible_formatting,
    may_copy_packets,
    processing_mode,
)
from domain.rate_limit import RateLimit, Window


@pytest.mark.parametrize(
    ("bitrate", "copied"),
    [(0.0, False), (0.5, True), (COPY_CEILING_KBPS, True), (COPY_CEILING_KBPS + 0.01, False)],
)
def test_copying_starts_above_zero_and_ends_at_the_ceiling(bitrate: float, copied: bool) -> None:
    assert may_copy_packets(SourceAudio("opus", 1, bitrate), STANDARD_OPUS) is copied


def test_a_minute_is_still_inline_by_default() -> None:
    assert processing_mode(60.0) is ProcessingMode.INLINE
    assert processing_mode(60.001) is ProcessingMode.QUEUED


def test_exactly_40_percent_is_plausible_and_blank_never_is() -> None:
    assert is_plausible_formatting("abcde", "ab")
    assert not is_plausible_formatting("abcde", "a")
    assert not is_plausible_formatting("", "")
    assert not is_plausible_formatting("  ", " ")


def test_a_refusal_advertises_a_wait_shorter_than_a_second() -> None:
    limit = RateLimit(max_events=1, window_seconds=60)
    _, window, _ = Window().admit(0.0, limit)
    allowed, _, retry_in = window.admit(59.5, limit)
    assert not allowed and retry_in == pytest.approx(0.5)


def test_the_chat_keeps_what_its_admins_set() -> None:
    chat = Chat(-1001)
    chat.set_silent(True)
    chat.set_include_files(True)
    assert (chat.silent, chat.include_files) == (True, True)
    chat.set_silent(False)
    chat.set_include_files(False)
    assert (chat.silent, chat.include_files) == (False, False)


def test_the_migrated_chat_starts_without_the_old_records_events() -> None:
    chat = Chat(-1001, ChatMode.AUTO, sponsor_id=5)
    assert chat.sponsor_ran_out()
    moved = chat.migrated_to(-1002)
    assert moved.events == []
    assert chat.events == [SponsorRanOut(-1001, 5)]


@given(st.integers(0, 100), st.integers(1, 100))
def test_a_refused_reservation_says_what_it_needed_and_what_there_was(
    balance: int, more: int
) -> None:
    account = MinutesAccount(7, balance=balance)
    with pytest.raises(InsufficientMinutes) as refused:
        account.reserve("job", balance + more)
    # The user's notice is worded from these two numbers.
    assert (refused.value.needed, refused.value.balance) == (balance + more, balance)
    assert str(refused.value) == f"{balance + more} minute(s) needed, {balance} available"
