"""Processed Telegram updates in Tablestore: the inbox's claims, leases and bodies.

A processed update is a row whose insert with ``EXPECT_NOT_EXIST`` is the atomic claim
(``ProcessedUpdates``); the table's TTL prunes old claims. A claim whose answer was lost
(timeout, 5xx) raises a transient ``StorageError`` and is not resent: it may have landed,
and a resent claim would then say "taken". A take-over is an update conditioned on the
row being unsettled and its lease run out, so of two instances exactly one wins; a
renewal is conditioned on the holder, so it never extends a lease someone took over.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any

from tablestore import (
    ComparatorType,
    CompositeColumnCondition,
    Condition,
    LogicalOperator,
    Row,
    RowExistenceExpectation,
    SingleColumnCondition,
)

from application.ports import FailedUpdate, WaitingUpdate
from infrastructure.tablestore.connection import TablestoreConnection
from infrastructure.tablestore.errors import ConditionFailed
from infrastructure.tablestore.scan import scan

RENEWALS_AT_ONCE = 16
_ANY = Condition(RowExistenceExpectation.IGNORE)


class TablestoreProcessedUpdates:
    def __init__(self, connection: TablestoreConnection) -> None:
        self._db = connection
        self._table = connection.tables.processed_updates

    async def claim(
        self, key: str, payload: str = "", *, holder: str = "", lease_until: float = 0.0
    ) -> bool:
        columns = [
            ("seen_at", time.time()),
            ("finished", False),
            ("payload", payload),
            ("holder", holder),
            ("lease_expires_at", float(lease_until)),
        ]
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
        await self._update(
            key, {"put": [("finished", True)], "delete_all": ["payload"]}, "finish", _ANY
        )

    async def unfinished(self, claimed_before: float, limit: int) -> list[tuple[str, str]]:
        waiting = [
            (cells.get("seen_at", 0), key, str(cells.get("payload", "")))
            for key, cells in await self._rows()
            if cells.get("finished", True) is False and cells.get("seen_at", 0) < claimed_before
        ]
        return [(key, payload) for _, key, payload in sorted(waiting)[:limit]]

    async def expired(self, now: float, limit: int) -> list[WaitingUpdate]:
        """A scan (see scan.py): every row the table keeps (two days) is read."""
        waiting = [
            (cells.get("seen_at", 0), key, cells)
            for key, cells in await self._rows()
            if cells.get("finished", True) is False and cells.get("lease_expires_at", 0.0) < now
        ]
        return [
            WaitingUpdate(key, str(cells.get("payload", "")), int(cells.get("attempts", 0)))
            for _, key, cells in sorted(waiting, key=lambda item: (item[0], item[1]))[:limit]
        ]

    async def take_over(self, key: str, holder: str, now: float, lease_until: float) -> bool:
        unsettled = SingleColumnCondition(
            "finished", False, ComparatorType.EQUAL, pass_if_missing=False
        )
        ran_out = SingleColumnCondition(
            "lease_expires_at", float(now), ComparatorType.LESS_THAN, pass_if_missing=True
        )
        both = CompositeColumnCondition(LogicalOperator.AND)
        both.add_sub_condition(unsettled)
        both.add_sub_condition(ran_out)
        change = {"put": [("holder", holder), ("lease_expires_at", float(lease_until))]}
        try:
            await self._update(
                key, change, "take over", Condition(RowExistenceExpectation.EXPECT_EXIST, both)
            )
        except ConditionFailed:
            return False
        return True

    async def renew(self, keys: Sequence[str], holder: str, lease_until: float) -> None:
        mine = SingleColumnCondition("holder", holder, ComparatorType.EQUAL, pass_if_missing=False)
        held = Condition(RowExistenceExpectation.EXPECT_EXIST, mine)
        change = {"put": [("lease_expires_at", float(lease_until))]}

        async def renew_one(key: str) -> None:
            with contextlib.suppress(ConditionFailed):  # taken over or settled: not ours
                await self._update(key, change, "renew the lease of", held)

        for start in range(0, len(keys), RENEWALS_AT_ONCE):
            await asyncio.gather(
                *(renew_one(key) for key in keys[start : start + RENEWALS_AT_ONCE])
            )

    async def record_attempt(self, key: str, attempts: int) -> None:
        await self._update(key, {"put": [("attempts", attempts)]}, "count an attempt of", _ANY)

    async def fail(self, key: str, attempts: int, error: str, failed_at: float) -> None:
        columns = [
            ("finished", True),
            ("attempts", attempts),
            ("error", error),
            ("failed_at", float(failed_at)),
        ]
        await self._update(key, {"put": columns}, "give up on", _ANY)

    async def failed(self, limit: int) -> list[FailedUpdate]:
        """A scan, for the owner."""
        given_up = [
            FailedUpdate(
                key,
                str(cells.get("payload", "")),
                int(cells.get("attempts", 0)),
                str(cells.get("error", "")),
                float(cells["failed_at"]),
            )
            for key, cells in await self._rows()
            if "failed_at" in cells
        ]
        return sorted(given_up, key=lambda update: -update.failed_at)[:limit]

    async def _update(
        self, key: str, change: dict[str, Any], what: str, condition: Condition
    ) -> None:
        row = Row([("update_key", key)], change)
        await self._db.call(
            f"{what} update {key}",
            lambda client: client.update_row(self._table, row, condition),
            idempotent=True,
        )

    async def _rows(self) -> list[tuple[str, dict[str, Any]]]:
        rows = []
        for row in await scan(self._db, self._table, ["update_key"]):
            cells = {cell[0]: cell[1] for cell in row.attribute_columns}
            rows.append((str(dict(row.primary_key)["update_key"]), cells))
        return rows
