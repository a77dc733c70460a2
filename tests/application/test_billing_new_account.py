"""A brand-new account under concurrency: opening it is idempotent (another process
opening it first is read back, not a spent attempt) and this process's writes of one
account take turns, so a burst of notes on a new account never fails with "too busy"."""

from __future__ import annotations

import asyncio

from application.bus import Outbox
from application.minutes import MinutesBook
from domain.ledger import MinutesAccount
from tests.application.in_memory import InMemoryAccountRepository

USER = 77


class YieldingAccounts(InMemoryAccountRepository):
    """The in-memory store, but every read and write gives other tasks a turn first, as a
    real store's I/O does."""

    async def get(self, user_id: int) -> MinutesAccount | None:
        await asyncio.sleep(0)
        return await super().get(user_id)

    async def save(self, account: MinutesAccount) -> None:
        await asyncio.sleep(0)
        await super().save(account)


class OpenedByAnotherProcess(InMemoryAccountRepository):
    """Another process opens the account (with its trial) right after our first read
    found nothing: our opening write meets an account that already exists."""

    def __init__(self, trial: int) -> None:
        super().__init__()
        self._trial = trial

    async def get(self, user_id: int) -> MinutesAccount | None:
        found = await super().get(user_id)
        if found is None:
            theirs = MinutesAccount(user_id)
            theirs.grant_trial(self._trial)
            await super().save(theirs)
        return found


async def test_opening_an_account_another_process_opened_first_costs_no_attempt() -> None:
    accounts = OpenedByAnotherProcess(trial=15)
    book = MinutesBook(accounts, Outbox(), trial_minutes=15, attempts=1)

    def reserve(account: MinutesAccount) -> int:
        account.reserve("job-1", 2)
        return account.balance

    assert await book.change(USER, reserve) == 13
    stored = accounts.rows[USER]
    assert (stored.trial, stored.balance, stored.reservations) == (15, 13, {"job-1": 2})


async def test_twenty_five_simultaneous_reservations_on_a_new_account_all_land() -> None:
    accounts = YieldingAccounts()
    book = MinutesBook(accounts, Outbox(), trial_minutes=25)

    def reserve(job: str):  # type: ignore[no-untyped-def]
        def apply(account: MinutesAccount) -> None:
            account.reserve(job, 1)

        return apply

    await asyncio.gather(*(book.change(USER, reserve(f"job-{n}")) for n in range(25)))

    stored = accounts.rows[USER]
    assert (stored.trial, stored.balance, stored.reserved) == (25, 0, 25)
    assert book._turns == {}  # no lock is kept once nobody writes the account
