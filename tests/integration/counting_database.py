"""The real SQLite database, counting its write transactions: how tests see how many
commits (claims, batches) a piece of code really makes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

from infrastructure.sqlite import SqliteDatabase

T = TypeVar("T")


class CountingDatabase(SqliteDatabase):
    transactions = 0

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        self.transactions += 1
        return await super().transaction(fn)
