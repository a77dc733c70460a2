"""One contract for the inbox (ProcessedUpdates: claims, leases, take-overs, failures) on
every adapter."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from application.ports import FailedUpdate, ProcessedUpdates, WaitingUpdate
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


async def test_a_claim_is_a_lease_that_only_its_expiry_lets_another_take_over(
    inbox: ProcessedUpdates,
) -> None:
    now = time.time()
    assert await inbox.claim("update:1", "one", holder="a", lease_until=now + 30)
    assert await inbox.claim("update:2", "two", holder="a", lease_until=now - 1)
    assert await inbox.expired(now, 10) == [WaitingUpdate("update:2", "two", 0)]
    assert not await inbox.take_over("update:1", "b", now, now + 30), "a's lease is live"

    assert await inbox.take_over("update:2", "b", now, now + 30)
    assert not await inbox.take_over("update:2", "c", now, now + 30), "one winner"
    assert await inbox.expired(now, 10) == []
    assert [u.key for u in await inbox.expired(now + 31, 10)] == ["update:1", "update:2"]


async def test_a_renewal_extends_only_the_holders_own_leases(inbox: ProcessedUpdates) -> None:
    now = time.time()
    assert await inbox.claim("update:1", "one", holder="a", lease_until=now + 30)
    assert await inbox.claim("update:2", "two", holder="b", lease_until=now + 30)
    await inbox.renew(["update:1", "update:2"], "a", now + 300)

    assert [u.key for u in await inbox.expired(now + 60, 10)] == ["update:2"]
    assert not await inbox.take_over("update:1", "b", now + 60, now + 90)
    await inbox.finish("update:1")
    await inbox.renew(["update:1"], "a", now + 900)
    assert await inbox.expired(now + 600, 10) == [WaitingUpdate("update:2", "two", 0)]


async def test_attempts_survive_a_take_over_and_a_failed_update_is_kept_not_replayed(
    inbox: ProcessedUpdates,
) -> None:
    now = time.time()
    assert await inbox.claim("update:7", '{"update_id": 7}', holder="a", lease_until=now + 30)
    await inbox.record_attempt("update:7", 2)
    assert await inbox.expired(now + 60, 10) == [WaitingUpdate("update:7", '{"update_id": 7}', 2)]
    assert await inbox.failed(10) == []

    await inbox.fail("update:7", 5, "TimedOut: sendMessage", now + 1)
    assert await inbox.expired(now + 60, 10) == [], "given up: never replayed"
    assert await inbox.unfinished(now + 60, 10) == []
    assert not await inbox.take_over("update:7", "b", now + 60, now + 90)
    assert not await inbox.claim("update:7"), "a redelivery is still a redelivery"
    assert await inbox.failed(10) == [
        FailedUpdate("update:7", '{"update_id": 7}', 5, "TimedOut: sendMessage", now + 1)
    ]


async def test_a_claim_without_a_lease_is_anyones_to_take(inbox: ProcessedUpdates) -> None:
    assert await inbox.claim("update:1", "one")
    now = time.time()
    assert await inbox.take_over("update:1", "b", now, now + 30)
    assert await inbox.expired(now, 10) == []
