"""SQLite state the Telegram bot needs: transcript cache, settings, processed updates."""

from __future__ import annotations

import asyncio

import attrs

from domain.jobs import JobStatus, OutputMode, UserStyle
from infrastructure.sqlite import (
    SqliteDatabase,
    SqliteJobRepository,
    SqlitePreferencesRepository,
    SqliteProcessedUpdates,
)
from tests.integration.test_sqlite_repositories import make_job


async def test_transcript_cache_finds_the_newest_delivered_job_with_the_same_result(
    db: SqliteDatabase,
) -> None:
    repo = SqliteJobRepository(db)
    for job_id, updated_at, status, style in [
        ("old", 1.0, JobStatus.DELIVERED, UserStyle(language="ru")),
        ("new", 2.0, JobStatus.DELIVERED, UserStyle(language="ru", output=OutputMode.FILE)),
        ("failed", 3.0, JobStatus.FAILED, UserStyle(language="ru")),
        ("other-style", 4.0, JobStatus.DELIVERED, UserStyle(language="ru", use_yo=False)),
    ]:
        job = attrs.evolve(make_job(job_id), status=status, style=style, updated_at=updated_at)
        job.transcript = f"text of {job_id}"
        assert await repo.add(job)
    wanted = UserStyle(language="ru", ui_language="en")

    found = await repo.find_transcript("unique-id", wanted)

    assert found is not None and found.job_id == "new", "output mode does not change the text"
    assert await repo.find_transcript("unique-id", UserStyle(language="en")) is None
    assert await repo.find_transcript("another-file", wanted) is None


async def test_status_message_id_round_trips(db: SqliteDatabase) -> None:
    repo = SqliteJobRepository(db)
    job = make_job()
    job.status_message_id = 555
    await repo.add(job)
    stored = await repo.get(job.job_id)
    assert stored is not None and stored.status_message_id == 555


async def test_settings_are_saved_per_user_and_overwritten(db: SqliteDatabase) -> None:
    repo = SqlitePreferencesRepository(db)
    assert await repo.get(1) is None
    await repo.save(1, UserStyle(use_code_tags=True, output=OutputMode.FILE))
    await repo.save(2, UserStyle(language="ru"))
    await repo.save(1, UserStyle(use_yo=False))
    assert await repo.get(1) == UserStyle(use_yo=False)
    assert await repo.get(2) == UserStyle(language="ru")


async def test_an_update_is_claimed_once_even_by_racing_processes(
    db: SqliteDatabase, open_db
) -> None:  # type: ignore[no-untyped-def]
    other_process = open_db()
    claims = [SqliteProcessedUpdates(db), SqliteProcessedUpdates(other_process)]
    results = await asyncio.gather(*(claims[i % 2].claim("update:7") for i in range(10)))
    assert sorted(results) == [False] * 9 + [True]
    assert await claims[0].claim("update:8")
