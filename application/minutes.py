"""Changing a minutes account safely while other jobs change it too.

Every change is read, applied by the domain ledger, and saved with a version check; a
conflicting save is retried on fresh data, so concurrent jobs can never overspend.
Within one process the changes of one account take turns (a lock per account), so a
burst of notes from one user (25 at once from a brand-new account) never burns the
conflict retries racing itself; only other processes' writes can conflict. Opening an
account is idempotent: "someone opened it first" is read back, not counted as a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
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
        self._turns: dict[int, tuple[asyncio.Lock, int]] = {}  # user -> (lock, holders)

    async def change(self, user_id: int, change: Callable[[MinutesAccount], T]) -> T:
        """Apply ``change`` to the user's account (opened with the trial if new) and save it.

        Domain errors raised by ``change`` (e.g. InsufficientMinutes) propagate unchanged.
        """
        async with self._turn(user_id):
            for _ in range(self._attempts):
                account = await self._load_or_open(user_id)
                result = change(account)
                try:
                    await self._accounts.save(account)
                except ConcurrentUpdate:
                    continue
                self._outbox.collect(account)
                return result
        raise StorageError(f"account {user_id} is too busy to update", transient=True)

    @asynccontextmanager
    async def _turn(self, user_id: int) -> AsyncIterator[None]:
        """This process's changes of one account, one at a time (the lock is dropped when
        nobody holds or waits for it, so idle users cost nothing)."""
        lock, holders = self._turns.get(user_id) or (asyncio.Lock(), 0)
        self._turns[user_id] = (lock, holders + 1)
        try:
            async with lock:
                yield
        finally:
            lock, holders = self._turns[user_id]
            if holders == 1:
                del self._turns[user_id]
            else:
                self._turns[user_id] = (lock, holders - 1)

    async def account(self, user_id: int) -> MinutesAccount | None:
        return await self._accounts.get(user_id)

    @property
    def trial_minutes(self) -> int:
        """The free minutes every new user starts with (what ``/start`` tells newcomers)."""
        return self._trial_minutes

    async def balance_of(self, user_id: int) -> int:
        """Minutes available now; a user never seen has their trial waiting."""
        account = await self._accounts.get(user_id)
        return self._trial_minutes if account is None else account.balance

    async def _load_or_open(self, user_id: int) -> MinutesAccount:
        """The stored account, or a new one with its trial saved at once. Opening is
        create-if-absent: when another writer (another process) opened it first, its
        account is read back and used, without spending one of the change's attempts."""
        account = await self._accounts.get(user_id)
        if account is not None:
            return account
        account = MinutesAccount(user_id)
        account.grant_trial(self._trial_minutes)
        try:
            await self._accounts.save(account)
        except ConcurrentUpdate:
            opened = await self._accounts.get(user_id)
            if opened is None:
                raise StorageError(
                    f"account {user_id} exists but cannot be read", transient=True
                ) from None
            return opened
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

    async def settle_part(self, user_id: int, reservation_id: str, charge: int) -> int:
        """Settle a stopped job's reservation once: ``charge`` minutes of it committed, the
        rest released; an already settled one changes nothing. Returns the charge made."""

        def apply(account: MinutesAccount) -> int:
            if not account.holds(reservation_id):
                return 0
            return account.commit_part(reservation_id, charge)

        return await self.change(user_id, apply)
