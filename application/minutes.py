"""Changing a minutes account safely while other jobs change it too.

Every change is read, applied by the domain ledger, and saved with a version check; a
conflicting save is retried on fresh data, so concurrent jobs can never overspend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from application.bus import Outbox
from application.errors import ConcurrentUpdate, StorageError
from application.ports import AccountRepository
from domain.ledger import MinutesAccount

T = TypeVar("T")


class MinutesBook:
    def __init__(
        self,
        accounts: AccountRepository,
        outbox: Outbox,
        trial_minutes: int,
        attempts: int = 20,
    ) -> None:
        self._accounts = accounts
        self._outbox = outbox
        self._trial_minutes = trial_minutes
        self._attempts = attempts

    async def change(self, user_id: int, change: Callable[[MinutesAccount], T]) -> T:
        """Apply ``change`` to the user's account (opened with the trial if new) and save it.

        Domain errors raised by ``change`` (e.g. InsufficientMinutes) propagate unchanged.
        """
        for _ in range(self._attempts):
            account = await self._load_or_open(user_id)
            if account is None:
                continue
            result = change(account)
            try:
                await self._accounts.save(account)
            except ConcurrentUpdate:
                continue
            self._outbox.collect(account)
            return result
        raise StorageError(f"account {user_id} is too busy to update", transient=True)

    async def account(self, user_id: int) -> MinutesAccount | None:
        return await self._accounts.get(user_id)

    async def balance_of(self, user_id: int) -> int:
        """Minutes available now; a user never seen has their trial waiting."""
        account = await self._accounts.get(user_id)
        return self._trial_minutes if account is None else account.balance

    async def _load_or_open(self, user_id: int) -> MinutesAccount | None:
        """The stored account, or a new one with its trial saved at once (``None`` when a
        concurrent writer opened it first: read again)."""
        account = await self._accounts.get(user_id)
        if account is not None:
            return account
        account = MinutesAccount(user_id)
        account.grant_trial(self._trial_minutes)
        try:
            await self._accounts.save(account)
        except ConcurrentUpdate:
            return None
        self._outbox.collect(account)
        return account

    async def settle(self, user_id: int, reservation_id: str, *, commit: bool) -> int:
        """Commit or release a reservation once; an already settled one changes nothing."""

        def apply(account: MinutesAccount) -> int:
            if not account.holds(reservation_id):
                return 0
            if commit:
                return account.commit(reservation_id)
            return account.release(reservation_id)

        return await self.change(user_id, apply)
