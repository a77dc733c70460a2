"""Telegram Stars payments in Tablestore: the ``PaymentRepository`` port.

Why this exists: the cloud deployment keeps its record of payments (statistics, export,
refunds) next to the accounts; the account row is what credits a charge exactly once. A
payment is a row keyed by its charge id, inserted with ``EXPECT_NOT_EXIST`` so a charge
Telegram reports twice is stored once (``add`` says ``False``). An insert whose answer was
lost (timeout, 5xx) raises a transient ``StorageError`` and is not resent: it may have
landed, and the caller's retry then reads ``False``. ``mark_refunded`` is an UpdateRow
with ``EXPECT_EXIST``, safe to resend (it writes the same cell again). ``list_since`` scans
the table (scan.py) and sorts here: payments are few and it serves the owner's reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tablestore import Condition, Row, RowExistenceExpectation

from application.errors import StorageError
from application.ports import PaymentRecord
from infrastructure.tablestore.connection import TablestoreConnection
from infrastructure.tablestore.errors import ConditionFailed
from infrastructure.tablestore.scan import scan
from infrastructure.tablestore.schema import PAYMENTS_KEY

_NEW = Condition(RowExistenceExpectation.EXPECT_NOT_EXIST)
_STORED = Condition(RowExistenceExpectation.EXPECT_EXIST)


class TablestorePaymentRepository:
    def __init__(self, connection: TablestoreConnection) -> None:
        self._db = connection
        self._table = connection.tables.payments

    async def add(self, payment: PaymentRecord) -> bool:
        row = Row(_key(payment.charge_id), _columns(payment))
        try:
            await self._db.call(
                f"add payment {payment.charge_id}",
                lambda client: client.put_row(self._table, row, _NEW),
                idempotent=False,
            )
        except ConditionFailed:
            return False
        return True

    async def get(self, charge_id: str) -> PaymentRecord | None:
        _, row, _ = await self._db.call(
            f"get payment {charge_id}",
            lambda client: client.get_row(self._table, _key(charge_id), max_version=1),
            idempotent=True,
        )
        return None if row is None else _payment(charge_id, row.attribute_columns)

    async def mark_refunded(self, charge_id: str, refunded_at: float) -> None:
        change = Row(_key(charge_id), {"put": [("refunded_at", float(refunded_at))]})
        try:
            await self._db.call(
                f"refund payment {charge_id}",
                lambda client: client.update_row(self._table, change, _STORED),
                idempotent=True,  # the same cell again: harmless
            )
        except ConditionFailed as missing:
            raise StorageError(f"payment {charge_id} is not stored", transient=False) from missing

    async def list_since(self, paid_since: float, limit: int) -> Sequence[PaymentRecord]:
        rows = await scan(self._db, self._table, [name for name, _ in PAYMENTS_KEY])
        payments = [
            _payment(dict(row.primary_key)["charge_id"], row.attribute_columns) for row in rows
        ]
        recent = [payment for payment in payments if payment.paid_at >= paid_since]
        return sorted(recent, key=lambda payment: payment.paid_at, reverse=True)[: max(limit, 0)]


def _key(charge_id: str) -> list[tuple[str, Any]]:
    return [("charge_id", charge_id)]


def _columns(payment: PaymentRecord) -> list[tuple[str, Any]]:
    """Times as doubles, so they read back as floats; no column for a missing refund."""
    columns: list[tuple[str, Any]] = [
        ("user_id", payment.user_id),
        ("package_id", payment.package_id),
        ("stars", payment.stars),
        ("minutes", payment.minutes),
        ("paid_at", float(payment.paid_at)),
    ]
    if payment.refunded_at is not None:
        columns.append(("refunded_at", float(payment.refunded_at)))
    return columns


def _payment(charge_id: str, attributes: list[Any]) -> PaymentRecord:
    cells = {cell[0]: cell[1] for cell in attributes}
    try:
        return PaymentRecord(
            charge_id=charge_id,
            user_id=cells["user_id"],
            package_id=cells["package_id"],
            stars=cells["stars"],
            minutes=cells["minutes"],
            paid_at=cells["paid_at"],
            refunded_at=cells.get("refunded_at"),
        )
    except KeyError as error:
        raise StorageError(
            f"payment row {charge_id!r} cannot be read: {error!r}", transient=False
        ) from error
