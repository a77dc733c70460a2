"""Telegram Stars payments in SQLite: the ``PaymentRepository`` port.

The account row is what credits a charge exactly once (see accounts.py); this table is the
record of payments for statistics, export and refunds. The charge id is the primary key,
so a payment Telegram reports twice is stored once and ``add`` says ``False`` the second
time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import attrs

from application.errors import StorageError
from application.ports import PaymentRecord
from infrastructure.sqlite.database import SqliteDatabase

_COLUMNS = tuple(field.name for field in attrs.fields(PaymentRecord))
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM payments"
_INSERT = (
    f"INSERT INTO payments ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(':' + column for column in _COLUMNS)}) "
    "ON CONFLICT (charge_id) DO NOTHING"
)


class SqlitePaymentRepository:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def add(self, payment: PaymentRecord) -> bool:
        row = attrs.asdict(payment)

        def insert(conn: sqlite3.Connection) -> bool:
            return conn.execute(_INSERT, row).rowcount == 1

        return await self._db.transaction(insert)

    async def get(self, charge_id: str) -> PaymentRecord | None:
        def select(conn: sqlite3.Connection) -> sqlite3.Row | None:
            row: sqlite3.Row | None = conn.execute(
                f"{_SELECT} WHERE charge_id = ?", (charge_id,)
            ).fetchone()
            return row

        row = await self._db.read(select)
        return None if row is None else _from_row(row)

    async def mark_refunded(self, charge_id: str, refunded_at: float) -> None:
        def update(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "UPDATE payments SET refunded_at = ? WHERE charge_id = ?", (refunded_at, charge_id)
            )
            if cursor.rowcount == 0:
                raise StorageError(f"payment {charge_id} is not stored", transient=False)

        await self._db.transaction(update)

    async def list_since(self, paid_since: float, limit: int) -> Sequence[PaymentRecord]:
        """Newest first by ``payments_by_time``; payments made at the same instant keep the
        order they were stored in, as the in-memory reference does."""

        def select(conn: sqlite3.Connection) -> list[sqlite3.Row]:
            return conn.execute(
                f"{_SELECT} WHERE paid_at >= ? ORDER BY paid_at DESC, rowid LIMIT ?",
                (paid_since, max(limit, 0)),
            ).fetchall()

        return [_from_row(row) for row in await self._db.read(select)]


def _from_row(row: sqlite3.Row) -> PaymentRecord:
    return PaymentRecord(**{column: row[column] for column in _COLUMNS})
