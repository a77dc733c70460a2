"""One contract for the stores of the recognizers' learned throughput (``ThroughputRecords``):
SQLite and Tablestore (the real SDK against its wire-level fake).

What the ETA of a long recording relies on: nothing is known of a recognizer never
measured; a rate saved reads back as saved, for its recognizer only; the last save wins;
and it is kept, not held by the adapter: a new adapter on the same store reads it (a
restart, or another Function Compute instance).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from application.throughput import ThroughputRecords
from infrastructure.sqlite.throughput import SqliteThroughput
from infrastructure.tablestore import TablestoreThroughput
from tests.contract.connections import fake_tablestore, sqlite_database

Open = Callable[[], ThroughputRecords]


@pytest.fixture(params=["sqlite", "tablestore"])
async def open_records(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Open]:
    """Opens a new adapter on one store each time it is called."""
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            database = sqlite_database(stack, tmp_path / "throughput.db")
            yield lambda: SqliteThroughput(database)
        else:
            connection = await fake_tablestore(stack)
            yield lambda: TablestoreThroughput(connection)


async def test_a_recognizer_never_measured_has_no_rate(open_records: Open) -> None:
    assert await open_records().rate("qwen3-asr-flash") is None


async def test_the_last_rate_saved_is_read_by_a_new_adapter_for_its_recognizer_only(
    open_records: Open,
) -> None:
    first = open_records()
    await first.save_rate("qwen3-asr-flash", 0.25)
    await first.save_rate("qwen3-asr-flash", 0.125)
    await first.save_rate("whisper-base", 1.5)

    later = open_records()
    assert await later.rate("qwen3-asr-flash") == 0.125
    assert await later.rate("whisper-base") == 1.5
    assert await later.rate("another") is None
