"""A file written before payments (schema version 2) opens as version 3 with its minutes.

Why: accounts then had one ``credited`` total; the ledger now keeps where minutes came from.
The step must keep every balance and the invariant ``balance + reserved + spent ==
credited``, moving the old total to ``granted`` (pre-release data cannot tell trial from
bought minutes).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from application.ports import PaymentRecord
from domain.ledger import MinutesAccount
from infrastructure.sqlite import SqliteAccountRepository, SqliteDatabase, SqlitePaymentRepository
from infrastructure.sqlite.schema import _MIGRATIONS, SCHEMA_VERSION

OpenDb = Callable[..., SqliteDatabase]


def write_version_2_file(path: Path) -> None:
    """The file as release 2 left it: its two steps, and one account with minutes in use."""
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as raw:
        for step in _MIGRATIONS[:2]:
            for statement in step:
                raw.execute(statement)
        raw.execute("PRAGMA user_version = 2")
        raw.execute(
            "INSERT INTO accounts (user_id, balance, reservations, spent, credited,"
            " trial_granted, version) VALUES (42, 12, '{\"job-1\": 3}', 5, 20, 1, 4)"
        )
    raw.close()


async def test_a_version_2_file_keeps_its_minutes_as_granted(
    open_db: OpenDb, db_path: Path
) -> None:
    write_version_2_file(db_path)
    accounts = SqliteAccountRepository(open_db())

    migrated = await accounts.get(42)

    expected = MinutesAccount(
        42, balance=12, reservations={"job-1": 3}, spent=5, granted=20, trial_granted=True
    )
    expected.version = 4
    assert migrated == expected
    assert migrated is not None and migrated.credited == 20 == 12 + 3 + 5
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    raw.close()


async def test_a_migrated_file_takes_payments_and_new_account_fields(
    open_db: OpenDb, db_path: Path
) -> None:
    write_version_2_file(db_path)
    db = open_db()
    accounts, payments = SqliteAccountRepository(db), SqlitePaymentRepository(db)
    account = await accounts.get(42)
    assert account is not None

    account.purchase("charge-1", "m10", 10)
    await accounts.save(account)
    assert await payments.add(PaymentRecord("charge-1", 42, "m10", 50, 10, 1_700_000_000.0))

    stored = await accounts.get(42)
    assert stored == account and stored is not None and stored.version == 5
    assert (stored.granted, stored.purchased, stored.balance) == (20, 10, 22)
    assert [p.charge_id for p in await payments.list_since(0.0, 5)] == ["charge-1"]
    with sqlite3.connect(db_path) as raw:  # the old column still shows the total
        assert raw.execute("SELECT credited FROM accounts").fetchone()[0] == 30
    raw.close()
