"""The SQLite job and account repositories against real files."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from application.errors import ConcurrentUpdate, StorageError
from domain.events import JobQueued
from domain.jobs import AudioSource, JobStatus, MediaKind, OutputMode, UserStyle, VoiceJob
from domain.ledger import MinutesAccount
from infrastructure.sqlite import SqliteAccountRepository, SqliteDatabase, SqliteJobRepository

OpenDb = Callable[..., SqliteDatabase]


def make_job(job_id: str = "job-1", user_id: int = 42, created_at: float = 100.0) -> VoiceJob:
    return VoiceJob(
        job_id=job_id,
        user_id=user_id,
        chat_id=-1001234567890,
        source=AudioSource(MediaKind.VOICE, "file-id", "unique-id", 61.5, 123_456, "audio/ogg"),
        duration_seconds=61.5,
        reserved_minutes=2,
        style=UserStyle(use_yo=False, language="ru"),
        created_at=created_at,
        updated_at=created_at,
    )


async def test_job_round_trip_keeps_every_field_and_type(db: SqliteDatabase) -> None:
    repo = SqliteJobRepository(db)
    job = make_job()
    job.source = AudioSource(MediaKind.DOCUMENT, "f", "u", None, None, "video/mp4", "talk.mp4")
    job.style = UserStyle(use_yo=False, use_code_tags=True, language="en", output=OutputMode.FILE)
    job.status, job.attempts, job.reply_to_message_id = JobStatus.DELIVERED, 3, 777
    job.language, job.transcript, job.error = "en", "Привет, мир\n«ё»", "earlier failure"
    assert await repo.add(job)

    loaded = await repo.get(job.job_id)

    assert loaded == job
    assert loaded is not None
    assert loaded.status is JobStatus.DELIVERED
    assert loaded.source.kind is MediaKind.DOCUMENT
    assert loaded.style.output is OutputMode.FILE
    assert await repo.get("missing") is None


async def test_events_are_not_persisted(db: SqliteDatabase) -> None:
    repo = SqliteJobRepository(db)
    job = make_job()
    assert job.queue(now=101.0)
    await repo.add(job)
    loaded = await repo.get(job.job_id)
    assert job.events == [JobQueued(job.job_id)]
    assert loaded is not None and loaded.events == [] and loaded.status is JobStatus.QUEUED


async def test_adding_an_existing_id_returns_false_and_writes_nothing(db: SqliteDatabase) -> None:
    repo = SqliteJobRepository(db)
    assert await repo.add(make_job()) is True
    other = attrs.evolve(make_job(), transcript="not me", user_id=7)
    assert await repo.add(other) is False
    loaded = await repo.get("job-1")
    assert loaded is not None and loaded.user_id == 42 and loaded.transcript is None


async def test_save_bumps_the_version_and_a_stale_copy_is_refused(db: SqliteDatabase) -> None:
    repo = SqliteJobRepository(db)
    await repo.add(make_job())
    first, second = await repo.get("job-1"), await repo.get("job-1")
    assert first is not None and second is not None

    first.start(now=200.0)
    await repo.save(first)
    assert first.version == 1
    second.fail("too late", now=201.0)
    with pytest.raises(ConcurrentUpdate):
        await repo.save(second)

    assert second.version == 0
    stored = await repo.get("job-1")
    assert stored == first
    assert stored is not None and stored.status is JobStatus.PROCESSING and stored.version == 1
    stored.fail("boom", now=202.0)
    await repo.save(stored)
    assert (await repo.get("job-1")) == stored and stored.version == 2


async def test_saving_a_job_never_added_is_a_permanent_storage_error(db: SqliteDatabase) -> None:
    with pytest.raises(StorageError) as raised:
        await SqliteJobRepository(db).save(make_job())
    assert not isinstance(raised.value, ConcurrentUpdate)
    assert raised.value.transient is False


async def test_list_by_user_is_newest_first_and_limited(db: SqliteDatabase) -> None:
    repo = SqliteJobRepository(db)
    for index, created in enumerate([300.0, 100.0, 200.0, 400.0]):
        await repo.add(make_job(f"job-{index}", created_at=created))
    await repo.add(make_job("someone-else", user_id=9, created_at=500.0))

    newest = await repo.list_by_user(42, limit=3)

    assert [job.job_id for job in newest] == ["job-3", "job-0", "job-2"]
    assert [job.job_id for job in await repo.list_by_user(9, limit=10)] == ["someone-else"]
    assert await repo.list_by_user(1, limit=10) == []


async def test_two_databases_on_one_file_share_writes_and_versions(open_db: OpenDb) -> None:
    webhook, worker = SqliteJobRepository(open_db()), SqliteJobRepository(open_db())
    await webhook.add(make_job())
    seen_by_worker, seen_by_webhook = await worker.get("job-1"), await webhook.get("job-1")
    assert seen_by_worker == make_job()
    assert seen_by_worker is not None and seen_by_webhook is not None

    seen_by_worker.start(now=150.0)
    await worker.save(seen_by_worker)
    assert await webhook.get("job-1") == seen_by_worker
    with pytest.raises(ConcurrentUpdate):
        await webhook.save(seen_by_webhook)


async def test_account_round_trip_and_versions(db: SqliteDatabase) -> None:
    repo = SqliteAccountRepository(db)
    assert await repo.get(42) is None
    account = MinutesAccount(user_id=42)
    account.grant_trial(10)
    account.reserve("job-1", 3)
    account.reserve("job-2", 2)
    account.commit("job-2")

    await repo.save(account)
    assert account.version == 1
    loaded = await repo.get(42)
    assert loaded == account
    assert loaded is not None and loaded.reservations == {"job-1": 3} and loaded.trial_granted

    loaded.release("job-1")
    await repo.save(loaded)
    assert loaded.version == 2 and await repo.get(42) == loaded


async def test_account_conflicts_raise_concurrent_update(open_db: OpenDb) -> None:
    first, second = SqliteAccountRepository(open_db()), SqliteAccountRepository(open_db())
    await first.save(MinutesAccount(user_id=1, balance=5, granted=5))
    with pytest.raises(ConcurrentUpdate):  # both created the account: the second loses
        await second.save(MinutesAccount(user_id=1, balance=9, granted=9))

    mine, theirs = await first.get(1), await second.get(1)
    assert mine is not None and theirs is not None and mine.balance == 5
    mine.reserve("a", 5)
    await first.save(mine)
    theirs.reserve("b", 5)
    with pytest.raises(ConcurrentUpdate):
        await second.save(theirs)
    stored = await second.get(1)
    assert stored is not None and stored.reservations == {"a": 5} and stored.balance == 0
