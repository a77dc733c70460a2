"""Minutes accounts in Tablestore: the ``AccountRepository`` port, with optimistic concurrency.

Why this exists: balances are money; the reference bot's storage errors were swallowed and
its concurrent uploads could overspend. The first save of an account (version 0) is a
PutRow with ``EXPECT_NOT_EXIST``; every later save is an UpdateRow that runs only if the
stored ``version`` equals the version that was read. A failed condition is
``ConcurrentUpdate``, and ``MinutesBook`` re-reads and tries again, so concurrent
reservations can never spend the same minutes twice, and a charge recorded in the account's
``payments`` is credited once. The maps (reservations, payments, refunds, purchases) are
stored as JSON. ``credited`` is written as the computed total for people browsing the
table and read back only from rows of the release before payments, which had nothing else:
there it becomes ``granted``, as the SQLite migration does (pre-release data).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tablestore import Condition, Row, RowExistenceExpectation

from application.errors import ConcurrentUpdate, StorageError
from domain.ledger import MinutesAccount
from infrastructure.tablestore.connection import TablestoreConnection
from infrastructure.tablestore.errors import ConditionFailed
from infrastructure.tablestore.jobs import version_is
from infrastructure.tablestore.scan import scan
from infrastructure.tablestore.schema import USER_KEY


class TablestoreAccountRepository:
    def __init__(self, connection: TablestoreConnection) -> None:
        self._db = connection
        self._table = connection.tables.accounts

    async def get(self, user_id: int) -> MinutesAccount | None:
        _, row, _ = await self._db.call(
            f"get account {user_id}",
            lambda client: client.get_row(self._table, _key(user_id), max_version=1),
            idempotent=True,
        )
        return None if row is None else _account(user_id, row.attribute_columns)

    async def list_all(self, limit: int) -> Sequence[MinutesAccount]:
        """Up to ``limit`` accounts in user id order: a forward scan (see scan.py)."""
        rows = await scan(self._db, self._table, [name for name, _ in USER_KEY], limit)
        return [_account(dict(row.primary_key)["user_id"], row.attribute_columns) for row in rows]

    async def save(self, account: MinutesAccount) -> None:
        user_id, version = account.user_id, account.version
        values = _columns(account, version + 1)
        try:
            if version == 0:
                row = Row(_key(user_id), values)
                new = Condition(RowExistenceExpectation.EXPECT_NOT_EXIST)
                await self._db.call(
                    f"open account {user_id}",
                    lambda client: client.put_row(self._table, row, new),
                    idempotent=False,
                )
            else:
                change = Row(_key(user_id), {"put": values})
                await self._db.call(
                    f"save account {user_id}",
                    lambda client: client.update_row(self._table, change, version_is(version)),
                    idempotent=False,
                )
        except ConditionFailed as failed:
            if version > 0 and await self.get(user_id) is None:
                raise StorageError(f"account {user_id} is not stored", transient=False) from failed
            raise ConcurrentUpdate(f"account {user_id} changed since version {version}") from failed
        account.version += 1


def _key(user_id: int) -> list[tuple[str, Any]]:
    return [("user_id", user_id)]


_COUNTS = ("balance", "spent", "trial", "purchased", "granted", "refunded")
_MAPS = ("reservations", "payments", "refunds", "purchases")  # str -> int, as JSON objects


def _columns(account: MinutesAccount, version: int) -> list[tuple[str, Any]]:
    return [
        *((name, getattr(account, name)) for name in _COUNTS),
        *((name, json.dumps(getattr(account, name), sort_keys=True)) for name in _MAPS),
        ("trial_granted", account.trial_granted),
        ("credited", account.credited),
        ("version", version),
    ]


def _account(user_id: int, attributes: list[Any]) -> MinutesAccount:
    cells = {cell[0]: cell[1] for cell in attributes}
    try:
        return MinutesAccount(
            user_id=user_id,
            balance=cells["balance"],
            reservations=_counts_by_key(cells["reservations"]),
            spent=cells["spent"],
            trial=cells.get("trial", 0),
            purchased=cells.get("purchased", 0),
            granted=cells["granted"] if "granted" in cells else cells["credited"],
            refunded=cells.get("refunded", 0),
            trial_granted=bool(cells["trial_granted"]),
            payments=_counts_by_key(cells.get("payments", "{}")),
            refunds=_counts_by_key(cells.get("refunds", "{}")),
            purchases=_counts_by_key(cells.get("purchases", "{}")),
            version=cells["version"],
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise StorageError(
            f"account row {user_id} cannot be read: {error!r}", transient=False
        ) from error


def _counts_by_key(document: str) -> dict[str, int]:
    return {str(key): int(value) for key, value in json.loads(document).items()}
