"""Minutes accounts in SQLite: the ``AccountRepository`` port, with optimistic concurrency.

An account is created by its first save (version 0) and every later save must name the
version it read, so two handlers spending the same balance cannot both win: the loser gets
``ConcurrentUpdate`` and re-reads. Reservations are stored as a JSON object.
"""

from __future__ import annotations

import json
import sqlite3

from application.errors import ConcurrentUpdate, StorageError
from domain.ledger import MinutesAccount
from infrastructure.sqlite.database import SqliteDatabase

_INSERT = """
    INSERT INTO accounts
        (user_id, balance, reservations, spent, credited, trial_granted, version)
    VALUES (:user_id, :balance, :reservations, :spent, :credited, :trial_granted, 1)
    ON CONFLICT (user_id) DO NOTHING
"""
_UPDATE = """
    UPDATE accounts
    SET balance = :balance, reservations = :reservations, spent = :spent,
        credited = :credited, trial_granted = :trial_granted, version = version + 1
    WHERE user_id = :user_id AND version = :version
"""
_SELECT = """
    SELECT user_id, balance, reservations, spent, credited, trial_granted, version
    FROM accounts WHERE user_id = ?
"""


class SqliteAccountRepository:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get(self, user_id: int) -> MinutesAccount | None:
        def select(conn: sqlite3.Connection) -> sqlite3.Row | None:
            row: sqlite3.Row | None = conn.execute(_SELECT, (user_id,)).fetchone()
            return row

        row = await self._db.read(select)
        if row is None:
            return None
        return MinutesAccount(
            user_id=row["user_id"],
            balance=row["balance"],
            reservations=dict(json.loads(row["reservations"])),
            spent=row["spent"],
            credited=row["credited"],
            trial_granted=bool(row["trial_granted"]),
            version=row["version"],
        )

    async def save(self, account: MinutesAccount) -> None:
        row = {
            "user_id": account.user_id,
            "balance": account.balance,
            "reservations": json.dumps(account.reservations, sort_keys=True),
            "spent": account.spent,
            "credited": account.credited,
            "trial_granted": int(account.trial_granted),
            "version": account.version,
        }

        def write(conn: sqlite3.Connection) -> None:
            statement = _INSERT if account.version == 0 else _UPDATE
            if conn.execute(statement, row).rowcount == 1:
                return
            if account.version == 0 or conn.execute(_SELECT, (account.user_id,)).fetchone():
                raise ConcurrentUpdate(
                    f"account {account.user_id} changed since version {account.version}"
                )
            raise StorageError(f"account {account.user_id} is not stored", transient=False)

        await self._db.transaction(write)
        account.version += 1
