"""Storage connections the contract suites run every adapter on: a SQLite file, and the
real Tablestore client talking to the Tablestore wire fake (tables created)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from infrastructure.retrying import RetryPolicy
from infrastructure.sqlite import SqliteDatabase
from infrastructure.tablestore import TablestoreConnection, create_tables
from tests.fakes.tablestore import FakeTablestore


def sqlite_database(stack: AsyncExitStack, path: Path) -> SqliteDatabase:
    database = SqliteDatabase(path)
    stack.push_async_callback(database.close)
    return database


async def fake_tablestore(stack: AsyncExitStack) -> TablestoreConnection:
    fake = stack.enter_context(FakeTablestore())
    connection = TablestoreConnection(
        fake.endpoint,
        fake.access_key_id,
        fake.access_key_secret,
        fake.instance,
        timeout_seconds=2,
        retry_policy=RetryPolicy(attempts=2, base_delay_seconds=0.01, budget_seconds=2),
    )
    stack.push_async_callback(connection.close)
    await create_tables(connection)
    return connection
