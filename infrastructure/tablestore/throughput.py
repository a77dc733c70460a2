"""The recognizers' learned throughput in Tablestore (``application.throughput``): one row
per recognizer, last writer wins, so the ETA a long recording's status shows survives a
Function Compute instance being recycled, as it survives a restart with SQLite.

Table ``<prefix>recognizer_throughput``, PK ``(recognizer STRING)``, column ``rate``
(recognition seconds per audio second) and ``updated_at``; never expires (schema.py).
"""

from __future__ import annotations

import time

from tablestore import Condition, Row, RowExistenceExpectation

from infrastructure.tablestore.connection import TablestoreConnection

_ANY = Condition(RowExistenceExpectation.IGNORE)


class TablestoreThroughput:
    def __init__(self, connection: TablestoreConnection) -> None:
        self._db = connection
        self._table = connection.tables.recognizer_throughput

    async def rate(self, recognizer: str) -> float | None:
        _, row, _ = await self._db.call(
            f"get the throughput of {recognizer}",
            lambda client: client.get_row(self._table, _key(recognizer), max_version=1),
            idempotent=True,
        )
        if row is None:
            return None
        cells = {cell[0]: cell[1] for cell in row.attribute_columns}
        return float(cells["rate"])

    async def save_rate(self, recognizer: str, rate: float) -> None:
        row = Row(_key(recognizer), [("rate", float(rate)), ("updated_at", time.time())])
        await self._db.call(
            f"save the throughput of {recognizer}",
            lambda client: client.put_row(self._table, row, _ANY),
            idempotent=True,  # the same value written twice is the same row
        )


def _key(recognizer: str) -> list[tuple[str, str]]:
    return [("recognizer", recognizer)]
