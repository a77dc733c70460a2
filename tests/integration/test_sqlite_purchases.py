"""Twenty handlers crediting one Telegram charge at once over SQLite: the minutes land once.

Why: Telegram may deliver a successful payment more than once, and the webhook and worker
processes may each handle a copy. The charge is recorded in the account row and the save
is version-checked, so whichever handler saves first credits it and every other re-reads,
sees the charge and changes nothing. Four databases on one file stand for four processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from application.bus import Outbox
from application.errors import ConcurrentUpdate
from application.minutes import MinutesBook
from domain.ledger import MinutesAccount
from infrastructure.sqlite import SqliteAccountRepository, SqliteDatabase

OpenDb = Callable[..., SqliteDatabase]


class CountingAccounts(SqliteAccountRepository):
    """Counts refused saves, to show that the handlers did race."""

    def __init__(self, db: SqliteDatabase) -> None:
        super().__init__(db)
        self.conflicts = 0

    async def save(self, account: MinutesAccount) -> None:
        try:
            await super().save(account)
        except ConcurrentUpdate:
            self.conflicts += 1
            raise


async def test_concurrent_copies_of_a_payment_credit_it_once(open_db: OpenDb) -> None:
    repositories = [CountingAccounts(open_db()) for _ in range(4)]
    books = [MinutesBook(accounts, Outbox(), trial_minutes=0) for accounts in repositories]
    # Opened first, as a user who pays has used the bot: MinutesBook's 20 attempts then
    # cover 19 competitors even if each of them wins just before this one saves.
    await books[0].change(7, lambda account: None)

    results = await asyncio.gather(
        *(
            books[index % 4].change(7, lambda account: account.purchase("charge-1", "m10", 10))
            for index in range(20)
        )
    )

    assert results.count(True) == 1
    assert sum(accounts.conflicts for accounts in repositories) > 0
    account = await books[1].account(7)
    assert account is not None
    assert (account.balance, account.purchased, account.credited) == (10, 10, 10)
    assert account.payments == {"charge-1": 10} and account.purchases == {"m10": 1}
    assert account.version == 2 + 20  # opening (two saves), then one save per handler
