"""Settings and processed Telegram updates in Tablestore, with the real SDK and the fake."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from application.errors import StorageError
from domain.jobs import OutputMode, UserStyle
from infrastructure.retrying import RetryPolicy
from infrastructure.tablestore import (
    TablestoreConnection,
    TablestorePreferencesRepository,
    TablestoreProcessedUpdates,
    create_tables,
)
from tests.fakes.tablestore import FakeTablestore


@pytest.fixture
async def connected() -> AsyncIterator[tuple[FakeTablestore, TablestoreConnection]]:
    with FakeTablestore() as fake:
        fast = RetryPolicy(attempts=2, base_delay_seconds=0.01, budget_seconds=2)
        async with TablestoreConnection(
            fake.endpoint,
            fake.access_key_id,
            fake.access_key_secret,
            fake.instance,
            timeout_seconds=2,
            retry_policy=fast,
        ) as connection:
            await create_tables(connection)
            yield fake, connection


async def test_settings_are_saved_per_user_and_overwritten(connected) -> None:
    _, connection = connected
    settings = TablestorePreferencesRepository(connection)
    assert await settings.get(1) is None
    await settings.save(1, UserStyle(use_code_tags=True, output=OutputMode.FILE))
    await settings.save(2, UserStyle(language="ru", ui_language="ru"))
    await settings.save(1, UserStyle(use_yo=False))

    assert await settings.get(1) == UserStyle(use_yo=False)
    assert await settings.get(2) == UserStyle(language="ru", ui_language="ru")


async def test_settings_of_another_release_are_read_tolerantly(connected) -> None:
    fake, connection = connected
    table = fake.store.tables[connection.tables.settings]
    table.rows[(5,)] = {"style": ('{"language": "de", "removed_field": 1}', 0)}
    assert await TablestorePreferencesRepository(connection).get(5) == UserStyle(language="de")
    table.rows[(6,)] = {"style": ("not json", 0)}
    with pytest.raises(StorageError):
        await TablestorePreferencesRepository(connection).get(6)


async def test_an_update_is_claimed_once_by_racing_handlers(connected) -> None:
    fake, connection = connected
    claims = TablestoreProcessedUpdates(connection)

    results = await asyncio.gather(*(claims.claim("update:7") for _ in range(10)))

    assert sorted(results) == [False] * 9 + [True]
    assert await claims.claim("update:8") is True
    assert fake.store.tables[connection.tables.processed_updates].time_to_live == 2 * 24 * 3600


async def test_a_claim_that_may_have_landed_is_not_resent(connected) -> None:
    fake, connection = connected
    fake.fail("OTSInternalServerError", status=500, api="PutRow")
    with pytest.raises(StorageError) as failure:
        await TablestoreProcessedUpdates(connection).claim("update:9")
    assert failure.value.transient and len(fake.calls("PutRow")) == 1
