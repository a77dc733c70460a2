"""Users' preferences (their settings) in Tablestore: one row per user.

Why this exists: the cloud deployment keeps all state in Tablestore. Preferences are
encoded by ``infrastructure/records.py`` as in SQLite; last writer wins: only their owner
changes them.
"""

from __future__ import annotations

import time

from tablestore import Condition, Row, RowExistenceExpectation

from domain.jobs import UserStyle
from infrastructure.records import settings_columns, settings_from_columns
from infrastructure.tablestore.connection import TablestoreConnection


class TablestorePreferencesRepository:
    def __init__(self, connection: TablestoreConnection) -> None:
        self._db = connection
        self._table = connection.tables.settings

    async def get(self, user_id: int) -> UserStyle | None:
        _, row, _ = await self._db.call(
            f"get settings {user_id}",
            lambda client: client.get_row(self._table, [("user_id", user_id)], max_version=1),
            idempotent=True,
        )
        if row is None:
            return None
        cells = {cell[0]: cell[1] for cell in row.attribute_columns}
        return settings_from_columns(user_id, cells)

    async def save(self, user_id: int, style: UserStyle) -> None:
        row = Row([("user_id", user_id)], list(settings_columns(style, time.time()).items()))
        anyway = Condition(RowExistenceExpectation.IGNORE)
        await self._db.call(
            f"save settings {user_id}",
            lambda client: client.put_row(self._table, row, anyway),
            idempotent=True,  # the same whole row again: harmless
        )
