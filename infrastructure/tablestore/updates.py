"""Processed Telegram updates in Tablestore: the webhook's inbox claims.

A processed update is a row whose insert with ``EXPECT_NOT_EXIST`` is the atomic claim
(``ProcessedUpdates``); the table's TTL prunes old claims. A claim whose answer was lost
(timeout, 5xx) raises a transient ``StorageError`` and is not resent: it may have landed,
and a resent claim would then say "taken".
"""

from __future__ import annotations

import time

from tablestore import Condition, Row, RowExistenceExpectation

from infrastructure.tablestore.connection import TablestoreConnection
from infrastructure.tablestore.errors import ConditionFailed
from infrastructure.tablestore.scan import scan


class TablestoreProcessedUpdates:
    def __init__(self, connection: TablestoreConnection) -> None:
        self._db = connection
        self._table = connection.tables.processed_updates

    async def claim(self, key: str, payload: str = "") -> bool:
        columns = [("seen_at", time.time()), ("finished", False), ("payload", payload)]
        row = Row([("update_key", key)], columns)
        new = Condition(RowExistenceExpectation.EXPECT_NOT_EXIST)
        try:
            await self._db.call(
                f"claim update {key}",
                lambda client: client.put_row(self._table, row, new),
                idempotent=False,
            )
        except ConditionFailed:
            return False
        return True

    async def finish(self, key: str) -> None:
        change = Row(
            [("update_key", key)],
            {"put": [("finished", True)], "delete_all": ["payload"]},
        )
        await self._db.call(
            f"finish update {key}",
            lambda client: client.update_row(
                self._table, change, Condition(RowExistenceExpectation.IGNORE)
            ),
            idempotent=True,
        )

    async def unfinished(self, claimed_before: float, limit: int) -> list[tuple[str, str]]:
        """A scan (see scan.py): run at webhook start-up only, on a table that keeps two days."""
        waiting = []
        for row in await scan(self._db, self._table, ["update_key"]):
            cells = {cell[0]: cell[1] for cell in row.attribute_columns}
            if cells.get("finished", True) is False and cells.get("seen_at", 0) < claimed_before:
                key = dict(row.primary_key)["update_key"]
                waiting.append((cells["seen_at"], key, str(cells.get("payload", ""))))
        return [(key, payload) for _, key, payload in sorted(waiting)[:limit]]
