"""Minutes accounts in SQLite: the ``AccountRepository`` port, with optimistic concurrency.

An account is created by its first save (version 0) and every later save must name the
version it read, so two handlers spending the same balance cannot both win: the loser gets
``ConcurrentUpdate`` and re-reads. The charges an account credited live in the account row
itself (JSON, like reservations and purchases), so "credit this charge once" is decided by
that same version check. ``credited`` is written as the computed total for people reading
the file, never read back: the ledger derives it from its parts (see schema.py, step 3).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from application.errors import ConcurrentUpdate, StorageError
from domain.ledger import MinutesAccount
from infrastructure.sqlite.database import SqliteDatabase

_COUNTS = ("balance", "spent", "trial", "purchased", "granted", "refunded")
_MAPS = ("reservations", "payments", "refunds", "purchases")  # str -> int, as JSON objects
_WRITTEN = ("user_id", *_COUNTS, *_MAPS, "trial_granted", "credited")
_INSERT = (
    f"INSERT INTO accounts ({', '.join(_WRITTEN)}, version) "
    f"VALUES ({', '.join(':' + column for column in _WRITTEN)}, 1) "
    "ON CONFLICT (user_id) DO NOTHING"
)
_UPDATE = (
    "UPDATE accounts SET "
    + ", ".join(f"{column} = :{column}" for column in _WRITTEN if column != "user_id")
    + ", version = version + 1 WHERE user_id = :user_id AND version = :version"
)
_SELECT = f"SELECT user_id, {', '.join((*_COUNTS, *_MAPS))}, trial_granted, version FROM accounts"


class SqliteAccountRepository:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get(self, user_id: int) -> MinutesAccount | None:
        def select(conn: sqlite3.Connection) -> sqlite3.Row | None:
            row: sqlite3.Row | None = conn.execute(
                f"{_SELECT} WHERE user_id = ?", (user_id,)
            ).fetchone()
            return row

        row = await self._db.read(select)
        return None if row is None else _from_row(row)

    async def list_all(self, limit: int) -> Sequence[MinutesAccount]:
        """Up to ``limit`` accounts in user id order (the primary key: no sort needed)."""

        def select(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            return conn.execute(f"{_SELECT} ORDER BY user_id LIMIT ?", (max(limit, 0),)).fetchall()

        return [_from_row(row) for row in await self._db.read(select)]

    async def save(self, account: MinutesAccount) -> None:
        row = _to_row(account)

        def write(conn: sqlite3.Connection) -> None:
            statement = _INSERT if account.version == 0 else _UPDATE
            if conn.execute(statement, row).rowcount == 1:
                return
            exists = conn.execute(
                "SELECT 1 FROM accounts WHERE user_id = ?", (account.user_id,)
            ).fetchone()
            if account.version == 0 or exists:
                raise ConcurrentUpdate(
                    f"account {account.user_id} changed since version {account.version}"
                )
            raise StorageError(f"account {account.user_id} is not stored", transient=False)

        await self._db.transaction(write)
        account.version += 1


def _to_row(account: MinutesAccount) -> dict[str, Any]:
    row: dict[str, Any] = {column: getattr(account, column) for column in _COUNTS}
    row.update({name: json.dumps(getattr(account, name), sort_keys=True) for name in _MAPS})
    row["user_id"] = account.user_id
    row["trial_granted"] = int(account.trial_granted)
    row["credited"] = account.credited
    row["version"] = account.version
    return row


def _from_row(row: sqlite3.Row) -> MinutesAccount:
    try:
        return MinutesAccount(
            user_id=row["user_id"],
            balance=row["balance"],
            reservations=_counts_by_key(row["reservations"]),
            spent=row["spent"],
            trial=row["trial"],
            purchased=row["purchased"],
            granted=row["granted"],
            refunded=row["refunded"],
            trial_granted=bool(row["trial_granted"]),
            payments=_counts_by_key(row["payments"]),
            refunds=_counts_by_key(row["refunds"]),
            purchases=_counts_by_key(row["purchases"]),
            version=row["version"],
        )
    except (TypeError, ValueError, AttributeError) as error:
        raise StorageError(
            f"account row {row['user_id']} cannot be read: {error!r}", transient=False
        ) from error


def _counts_by_key(document: str) -> dict[str, int]:
    return {str(key): int(value) for key, value in json.loads(document).items()}
