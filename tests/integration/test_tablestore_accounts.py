"""Tablestore accounts and the owner's listings, with the real SDK against the local fake.

Why: Telegram may deliver a successful payment more than once and several instances may
each handle a copy. The charge is recorded in the account row, saved by an UpdateRow that
runs only if the row's ``version`` is still the one read, so the first save credits it
and every other handler re-reads, sees the charge and changes nothing. Also: rows of the
release before payments still read (their ``credited`` as ``granted``), and the listings
that scan a table follow the service's pages to the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from application.bus import Outbox
from application.errors import StorageError
from application.minutes import MinutesBook
from application.ports import PaymentRecord
from domain.ledger import MinutesAccount
from infrastructure.retrying import RetryPolicy
from infrastructure.tablestore import (
    TablestoreAccountRepository,
    TablestoreConnection,
    TablestorePaymentRepository,
    create_tables,
)
from tests.fakes.tablestore import FakeTablestore, api


@pytest.fixture
def fake() -> Iterator[FakeTablestore]:
    with FakeTablestore() as server:
        yield server


@pytest.fixture
async def connection(fake: FakeTablestore) -> AsyncIterator[TablestoreConnection]:
    async with TablestoreConnection(
        fake.endpoint,
        fake.access_key_id,
        fake.access_key_secret,
        fake.instance,
        timeout_seconds=2,
        retry_policy=RetryPolicy(attempts=3, base_delay_seconds=0.01, max_delay_seconds=0.02),
    ) as opened:
        await create_tables(opened)
        yield opened


async def test_concurrent_copies_of_a_payment_credit_it_once(
    fake: FakeTablestore, connection: TablestoreConnection
) -> None:
    accounts = TablestoreAccountRepository(connection)
    book = MinutesBook(accounts, Outbox(), trial_minutes=0)
    # Opened first, as a user who pays has used the bot: MinutesBook's 20 attempts then
    # cover 19 competitors even if each of them wins just before this one saves.
    await book.change(7, lambda account: None)

    # One MinutesBook per instance: one process's writes of an account take turns, so
    # only separate instances race on the version check.
    instances = [MinutesBook(accounts, Outbox(), trial_minutes=0) for _ in range(20)]
    results = await asyncio.gather(
        *(
            instance.change(7, lambda account: account.purchase("charge-1", "m10", 10))
            for instance in instances
        )
    )

    assert results.count(True) == 1
    assert any(request.status == 403 for request in fake.calls("UpdateRow"))  # they raced
    account = await accounts.get(7)
    assert account is not None
    assert (account.balance, account.purchased, account.credited) == (10, 10, 10)
    assert account.payments == {"charge-1": 10} and account.purchases == {"m10": 1}
    assert account.version == 2 + 20  # opening (two saves), then one save per handler


async def test_a_row_from_before_payments_reads_its_credited_as_granted(
    fake: FakeTablestore, connection: TablestoreConnection
) -> None:
    table = fake.store.tables[connection.tables.accounts]
    old = {"balance": 12, "reservations": '{"job-1": 3}', "spent": 5, "credited": 20}
    table.rows[(42,)] = {name: (value, 0) for name, value in old.items()}
    table.rows[(42,)].update({"trial_granted": (True, 0), "version": (4, 0)})
    accounts = TablestoreAccountRepository(connection)

    account = await accounts.get(42)

    expected = MinutesAccount(
        42, balance=12, reservations={"job-1": 3}, spent=5, granted=20, trial_granted=True
    )
    expected.version = 4
    assert account == expected
    assert account is not None
    account.purchase("charge-1", "m10", 10)
    await accounts.save(account)
    assert await accounts.get(42) == account


async def test_an_unreadable_account_row_is_a_permanent_error(
    fake: FakeTablestore, connection: TablestoreConnection
) -> None:
    table = fake.store.tables[connection.tables.accounts]
    table.rows[(5,)] = {"balance": (1, 0), "version": (1, 0)}
    with pytest.raises(StorageError) as failure:
        await TablestoreAccountRepository(connection).list_all(10)
    assert not failure.value.transient


async def test_scans_follow_every_page(
    fake: FakeTablestore, connection: TablestoreConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "MAX_RANGE_ROWS", 2)  # the service's page, made tiny
    accounts, payments = (
        TablestoreAccountRepository(connection),
        TablestorePaymentRepository(connection),
    )
    for user_id in range(1, 6):
        await accounts.save(MinutesAccount(user_id, balance=user_id, granted=user_id))
        await payments.add(PaymentRecord(f"c{user_id}", user_id, "m10", 50, 10, float(user_id)))
    before = len(fake.calls("GetRange"))

    assert [a.user_id for a in await accounts.list_all(10)] == [1, 2, 3, 4, 5]
    assert [a.user_id for a in await accounts.list_all(3)] == [1, 2, 3]
    assert [p.charge_id for p in await payments.list_since(2.0, 10)] == ["c5", "c4", "c3", "c2"]
    assert len(fake.calls("GetRange")) - before == 3 + 2 + 3
