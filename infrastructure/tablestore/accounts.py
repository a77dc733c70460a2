"""Minutes accounts in Tablestore: the ``AccountRepository`` port, with optimistic concurrency.

Why this exists: balances are money; the reference bot's storage errors were swallowed and
its concurrent uploads could overspend. The first save of an account (version 0) is a
PutRow with ``EXPECT_NOT_EXIST``; every later save is an UpdateRow that runs only if the
stored ``version`` equals the version that was read. A failed condition is
``ConcurrentUpdate``, and ``MinutesBook`` re-reads and tries again, so concurrent
reservations can never spend the same minutes twice. Reservations are stored as JSON.
"""

from __future__ import annotations

import json
from typing import Any

from tablestore import Condition, Row, RowExistenceExpectation

from application.errors import ConcurrentUpdate, StorageError
from domain.ledger import MinutesAccount
from infrastructure.tablestore.connection import TablestoreConnection
from infrastructure.tablestore.errors import ConditionFailed
from infrastructure.tablestore.jobs import version_is


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


def _columns(account: MinutesAccount, version: int) -> list[tuple[str, Any]]:
    return [
        ("balance", account.balance),
        ("reservations", json.dumps(account.reservations, sort_keys=True)),
        ("spent", account.spent),
        ("credited", account.credited),
        ("trial_granted", account.trial_granted),
        ("version", version),
    ]


def _account(user_id: int, attributes: list[Any]) -> MinutesAccount:
    cells = {cell[0]: cell[1] for cell in attributes}
    try:
        return MinutesAccount(
            user_id=user_id,
            balance=cells["balance"],
            reservations={str(k): int(v) for k, v in json.loads(cells["reservations"]).items()},
            spent=cells["spent"],
            credited=cells["credited"],
            trial_granted=bool(cells["trial_granted"]),
            version=cells["version"],
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise StorageError(
            f"account row {user_id} cannot be read: {error!r}", transient=False
        ) from error
