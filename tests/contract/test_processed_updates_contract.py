"""One contract for the webhook's inbox (ProcessedUpdates) on every adapter."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from application.ports import ProcessedUpdates
from infrastructure.sqlite import SqliteProcessedUpdates
from infrastructure.tablestore import (
    TablestoreProcessedUpdates,
)
from tests.application.in_memory import FakeClock, InMemoryProcessedUpdates
from tests.contract.connections import fake_tablestore, sqlite_database


@pytest.fixture(params=["in_memory", "sqlite", "tablestore"])
async def inbox(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ProcessedUpdates]:
    async with AsyncExitStack() as stack:
        if request.param == "in_memory":
            yield InMemoryProcessedUpdates(FakeClock(time.time()))
        elif request.param == "sqlite":
            db = sqlite_database(stack, tmp_path / "inbox.db")
            yield SqliteProcessedUpdates(db)
        else:
            connection = await fake_tablestore(stack)
            yield TablestoreProcessedUpdates(connection)


async def test_an_update_is_claimed_once_and_kept_until_finished(
    inbox: ProcessedUpdates,
) -> None:
    assert await inbox.claim("update:1", '{"update_id": 1}')
    assert not await inbox.claim("update:1", '{"update_id": 1}')
    assert await inbox.claim("update:2", '{"update_id": 2}')
    later = time.time() + 10

    assert await inbox.unfinished(later, 10) == [
        ("update:1", '{"update_id": 1}'),
        ("update:2", '{"update_id": 2}'),
    ]
    assert await inbox.unfinished(time.time() - 3600, 10) == [], "too recent to replay"
    await inbox.finish("update:1")
    assert await inbox.unfinished(later, 10) == [("update:2", '{"update_id": 2}')]
    assert not await inbox.claim("update:1"), "a finished update stays taken"
    assert await inbox.unfinished(later, 1) == [("update:2", '{"update_id": 2}')]
