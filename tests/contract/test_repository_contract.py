"""One contract for every ``JobRepository``, ``AccountRepository`` and
``PreferencesRepository``: in memory, SQLite, and Tablestore (the real SDK against its
wire-level fake).

Why: the use cases are tested against the in-memory repositories and run against the
others; this keeps all three honest about what the handlers rely on: a stored record reads
back equal (an account with every ledger field), an id is added once, a stale save is
refused with ``ConcurrentUpdate``, each save bumps the version, a user's jobs list newest
first, and the owner's listings (every account, stuck jobs oldest first, recent jobs newest
first) filter and order alike. A row written by a newer release (a key this one does not
know in a job's source or style, or in a user's settings) reads back with that key ignored
in every store that encodes rows; it is written underneath the repository (``Raw``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Protocol

import attrs
import pytest
from tablestore import Condition, Row, RowExistenceExpectation

from application.errors import ConcurrentUpdate, StorageError
from application.ports import AccountRepository, JobRepository, PreferencesRepository
from domain.jobs import AudioSource, JobStatus, MediaKind, OutputMode, UserStyle, VoiceJob
from domain.ledger import MinutesAccount
from infrastructure.sqlite import (
    SqliteAccountRepository,
    SqliteDatabase,
    SqliteJobRepository,
    SqlitePreferencesRepository,
)
from infrastructure.tablestore import (
    TablestoreAccountRepository,
    TablestoreConnection,
    TablestoreJobRepository,
    TablestorePreferencesRepository,
)
from infrastructure.tablestore.job_rows import key_of
from tests.application.in_memory import (
    InMemoryAccountRepository,
    InMemoryJobRepository,
    InMemoryPreferencesRepository,
)
from tests.contract.connections import fake_tablestore, sqlite_database


class Raw(Protocol):
    """Writes stored rows underneath the repository, as another release would."""

    async def job_columns(self, job: VoiceJob, columns: Mapping[str, str]) -> None:
        """Overwrite text columns of the stored ``job``'s row."""

    async def settings(self, user_id: int, style_document: str) -> None:
        """Store ``style_document`` as the user's settings row."""


@attrs.frozen
class SqliteRaw:
    db: SqliteDatabase

    async def job_columns(self, job: VoiceJob, columns: Mapping[str, str]) -> None:
        def update(conn: sqlite3.Connection) -> None:
            for name, value in columns.items():
                conn.execute(f"UPDATE jobs SET {name} = ? WHERE job_id = ?", (value, job.job_id))

        await self.db.transaction(update)

    async def settings(self, user_id: int, style_document: str) -> None:
        def upsert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO user_settings (user_id, style, updated_at) "
                "VALUES (?, ?, ?)",
                (user_id, style_document, time.time()),
            )

        await self.db.transaction(upsert)


@attrs.frozen
class TablestoreRaw:
    connection: TablestoreConnection

    async def job_columns(self, job: VoiceJob, columns: Mapping[str, str]) -> None:
        row = Row(key_of(job), {"put": list(columns.items())})
        await self._write(self.connection.tables.jobs, row, "update_row")

    async def settings(self, user_id: int, style_document: str) -> None:
        row = Row([("user_id", user_id)], [("style", style_document), ("updated_at", time.time())])
        await self._write(self.connection.tables.settings, row, "put_row")

    async def _write(self, table: str, row: Any, method: str) -> None:
        anyway = Condition(RowExistenceExpectation.IGNORE)
        await self.connection.call(
            f"raw {method} {table}",
            lambda client: getattr(client, method)(table, row, anyway),
            idempotent=True,
        )


@attrs.frozen
class Subject:
    jobs: JobRepository
    accounts: AccountRepository
    settings: PreferencesRepository
    raw: Raw | None  # None: the store keeps objects, not encoded rows


@pytest.fixture(params=["in_memory", "sqlite", "tablestore"])
async def subject(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Subject]:
    async with AsyncExitStack() as stack:
        if request.param == "in_memory":
            yield Subject(
                InMemoryJobRepository(),
                InMemoryAccountRepository(),
                InMemoryPreferencesRepository(),
                None,
            )
        elif request.param == "sqlite":
            db = sqlite_database(stack, tmp_path / "contract.db")
            yield Subject(
                SqliteJobRepository(db),
                SqliteAccountRepository(db),
                SqlitePreferencesRepository(db),
                SqliteRaw(db),
            )
        else:
            connection = await fake_tablestore(stack)
            yield Subject(
                TablestoreJobRepository(connection),
                TablestoreAccountRepository(connection),
                TablestorePreferencesRepository(connection),
                TablestoreRaw(connection),
            )


def make_job(
    job_id: str = "job-1", user_id: int = 42, created_at: float = 1_700_000_000.5
) -> VoiceJob:
    return VoiceJob(
        job_id=job_id,
        user_id=user_id,
        chat_id=-100_555,
        source=AudioSource(
            MediaKind.AUDIO, f"file-{job_id}", f"u-{job_id}", 125.0, 1 << 20, "audio/mpeg", "t.mp3"
        ),
        duration_seconds=125.0,
        reserved_minutes=3,
        style=UserStyle(use_yo=False, use_code_tags=True, language="ru", output=OutputMode.FILE),
        created_at=created_at,
        updated_at=created_at,
        reply_to_message_id=9,
        status_message_id=10,
    )


async def test_a_job_reads_back_equal(subject: Subject) -> None:
    plain = make_job("plain")
    plain.reply_to_message_id = plain.status_message_id = None
    finished = make_job("finished")
    finished.start(1_700_000_010.0)
    finished.deliver("Текст с ёлкой <b>&</b>", "ru", 1_700_000_020.125)
    for job in (plain, finished):
        job.events.clear()
        assert await subject.jobs.add(job) is True

        assert await subject.jobs.get(job.job_id) == job


async def test_an_id_is_added_once(subject: Subject) -> None:
    assert await subject.jobs.add(make_job()) is True
    assert await subject.jobs.add(make_job(user_id=7, created_at=1.0)) is False
    stored = await subject.jobs.get("job-1")
    assert stored == make_job()


async def test_missing_records_are_none(subject: Subject) -> None:
    assert await subject.jobs.get("nope") is None
    assert await subject.accounts.get(404) is None


async def test_each_job_save_bumps_the_version(subject: Subject) -> None:
    await subject.jobs.add(make_job())
    job = await subject.jobs.get("job-1")
    assert job is not None and job.version == 0
    job.start(1_700_000_001.0)
    job.language = "en"
    await subject.jobs.save(job)
    assert job.version == 1
    job.language = None  # an optional field that loses its value
    job.fail("converter crashed", 1_700_000_002.0)
    await subject.jobs.save(job)

    stored = await subject.jobs.get("job-1")
    assert stored == job
    assert stored is not None and stored.version == 2 and stored.status is JobStatus.FAILED


async def test_a_stale_job_save_is_refused(subject: Subject) -> None:
    await subject.jobs.add(make_job())
    first, second = await subject.jobs.get("job-1"), await subject.jobs.get("job-1")
    assert first is not None and second is not None
    first.start(1_700_000_001.0)
    second.start(1_700_000_001.0)
    await subject.jobs.save(first)

    with pytest.raises(ConcurrentUpdate):
        await subject.jobs.save(second)
    assert second.version == 0
    assert await subject.jobs.get("job-1") == first


async def test_list_by_user_is_newest_first_with_a_limit(subject: Subject) -> None:
    for index, created in enumerate([30.0, 10.0, 50.0, 20.0, 40.0]):
        await subject.jobs.add(make_job(f"j{index}", created_at=1_700_000_000 + created))
    await subject.jobs.add(make_job("someone-else", user_id=43, created_at=1_800_000_000.0))

    newest = await subject.jobs.list_by_user(42, 3)

    assert [job.job_id for job in newest] == ["j2", "j4", "j0"]
    assert newest[0] == make_job("j2", created_at=1_700_000_050.0)
    assert len(await subject.jobs.list_by_user(42, 10)) == 5
    assert await subject.jobs.list_by_user(42, 0) == []
    assert await subject.jobs.list_by_user(99, 5) == []


async def test_the_transcript_cache_finds_the_newest_delivered_job_with_the_same_text(
    subject: Subject,
) -> None:
    ru, ru_file = UserStyle(language="ru"), UserStyle(language="ru", output=OutputMode.FILE)
    for job_id, updated_at, style, finish in [
        ("old", 10.0, ru, "deliver"),
        ("new", 20.0, ru_file, "deliver"),
        ("failed", 30.0, ru, "fail"),
        ("other-style", 40.0, UserStyle(language="ru", use_yo=False), "deliver"),
    ]:
        job = make_job(job_id, created_at=1_700_000_000 + updated_at)
        job.source = attrs.evolve(job.source, file_unique_id="same-file")
        job.style = style
        await subject.jobs.add(job)
        job.start(job.created_at)
        if finish == "deliver":
            job.deliver(f"text of {job_id}", "ru", job.created_at + 1)
        else:
            job.fail("broken", job.created_at + 1)
        await subject.jobs.save(job)
    await subject.jobs.add(make_job("queued", created_at=1_800_000_000.0))
    wanted = UserStyle(language="ru", ui_language="en")

    found = await subject.jobs.find_transcript("same-file", wanted)

    assert found is not None and found.job_id == "new", "the output mode does not change text"
    assert found.transcript == "text of new"
    assert await subject.jobs.find_transcript("same-file", UserStyle(language="en")) is None
    assert await subject.jobs.find_transcript("u-queued", wanted) is None  # not delivered
    assert await subject.jobs.find_transcript("another-file", wanted) is None


async def test_an_account_is_opened_then_updated_with_version_bumps(subject: Subject) -> None:
    account = MinutesAccount(7)
    account.grant_trial(15)
    await subject.accounts.save(account)
    assert account.version == 1
    account.reserve("job-1", 4)
    await subject.accounts.save(account)
    assert account.version == 2

    stored = await subject.accounts.get(7)
    assert stored == account
    assert stored is not None and stored.reservations == {"job-1": 4} and stored.trial_granted


async def test_a_stale_account_save_is_refused(subject: Subject) -> None:
    await subject.accounts.save(MinutesAccount(7, balance=10, granted=10))
    first, second = await subject.accounts.get(7), await subject.accounts.get(7)
    assert first is not None and second is not None
    first.reserve("a", 6)
    second.reserve("b", 6)
    await subject.accounts.save(first)

    with pytest.raises(ConcurrentUpdate):
        await subject.accounts.save(second)
    assert second.version == 1
    assert await subject.accounts.get(7) == first


async def test_opening_an_account_twice_is_refused(subject: Subject) -> None:
    await subject.accounts.save(MinutesAccount(7, balance=5, granted=5))
    with pytest.raises(ConcurrentUpdate):
        await subject.accounts.save(MinutesAccount(7, balance=99, granted=99))
    stored = await subject.accounts.get(7)
    assert stored is not None and stored.balance == 5


T0 = 1_700_000_000.0


async def test_an_account_with_every_ledger_field_reads_back_equal(subject: Subject) -> None:
    account = MinutesAccount(7)
    account.grant_trial(15)
    account.purchase("charge-a", "m60", 60)
    account.purchase("charge-b", "m10", 10)
    account.purchase("charge-c", "m10", 10)
    account.credit(5, "apology")
    account.reserve("job-1", 4)
    account.reserve("job-2", 6)
    account.commit("job-2")
    assert account.refund("charge-b") == 10
    await subject.accounts.save(account)
    assert await subject.accounts.get(7) == account

    account.refund("charge-a")
    account.release("job-1")
    await subject.accounts.save(account)

    stored = await subject.accounts.get(7)
    assert stored == account
    assert stored is not None
    assert (stored.trial, stored.purchased, stored.granted) == (15, 80, 5)
    assert stored.payments == {"charge-a": 60, "charge-b": 10, "charge-c": 10}
    assert stored.refunds == {"charge-b": 10, "charge-a": 60}
    assert stored.purchases == {"m60": 1, "m10": 2}
    assert (stored.refunded, stored.spent, stored.reserved, stored.balance) == (70, 6, 0, 24)
    assert stored.balance + stored.reserved + stored.spent == stored.credited == 30


async def test_list_all_returns_every_account_up_to_the_limit(subject: Subject) -> None:
    assert await subject.accounts.list_all(10) == []
    for user_id in (3, 5, 9):  # in key order: the backends agree on it
        account = MinutesAccount(user_id)
        account.grant_trial(user_id)
        await subject.accounts.save(account)

    listed = await subject.accounts.list_all(10)

    assert [account.user_id for account in listed] == [3, 5, 9]
    assert listed[1] == await subject.accounts.get(5)
    assert [account.user_id for account in await subject.accounts.list_all(2)] == [3, 5]
    assert await subject.accounts.list_all(0) == []


def job_in(status: JobStatus, job_id: str, created: float, updated: float) -> VoiceJob:
    """A job brought to ``status`` by its legal moves, last changed at ``T0 + updated``."""
    job = make_job(job_id, user_id=40 + len(job_id), created_at=T0 + created)
    if status is JobStatus.QUEUED:
        job.queue(T0 + updated)
    elif status is not JobStatus.ACCEPTED:
        job.start(T0 + updated)
        if status is JobStatus.DELIVERED:
            job.deliver("text", "en", T0 + updated)
        elif status is JobStatus.FAILED:
            job.fail("broken", T0 + updated)
    assert job.status is status and job.updated_at == T0 + updated
    return job


async def test_list_unfinished_is_stale_unfinished_jobs_oldest_first(subject: Subject) -> None:
    for job in [
        job_in(JobStatus.QUEUED, "queued", 10, 150),
        job_in(JobStatus.DELIVERED, "delivered", 1, 20),
        job_in(JobStatus.ACCEPTED, "accepted", 100, 100),
        job_in(JobStatus.FAILED, "failed", 2, 30),
        job_in(JobStatus.PROCESSING, "processing", 20, 140),
        job_in(JobStatus.PROCESSING, "at-the-cutoff", 30, 200),
        job_in(JobStatus.QUEUED, "recent", 40, 250),
    ]:
        assert await subject.jobs.add(job)

    stuck = await subject.jobs.list_unfinished(T0 + 200, 10)

    assert [job.job_id for job in stuck] == ["accepted", "processing", "queued"]
    assert stuck[1] == await subject.jobs.get("processing")
    assert [job.job_id for job in await subject.jobs.list_unfinished(T0 + 200, 2)] == [
        "accepted",
        "processing",
    ]
    assert await subject.jobs.list_unfinished(T0 + 100, 10) == []
    assert await subject.jobs.list_unfinished(T0 + 1000, 0) == []


async def test_a_saved_job_leaves_the_unfinished_list(subject: Subject) -> None:
    await subject.jobs.add(job_in(JobStatus.PROCESSING, "stuck", 0, 10))
    assert [job.job_id for job in await subject.jobs.list_unfinished(T0 + 50, 5)] == ["stuck"]
    job = await subject.jobs.get("stuck")
    assert job is not None
    job.fail("flushed", T0 + 20)
    await subject.jobs.save(job)
    assert await subject.jobs.list_unfinished(T0 + 50, 5) == []


async def test_list_since_is_jobs_created_from_then_newest_first(subject: Subject) -> None:
    for job_id, created in [("b", 30), ("d", 10), ("a", 40), ("too-old", 5), ("c", 20)]:
        assert await subject.jobs.add(job_in(JobStatus.DELIVERED, job_id, created, created + 1))

    recent = await subject.jobs.list_since(T0 + 10, 10)

    assert [job.job_id for job in recent] == ["a", "b", "c", "d"]
    assert recent[0] == await subject.jobs.get("a")
    assert [job.job_id for job in await subject.jobs.list_since(T0 + 10, 2)] == ["a", "b"]
    assert await subject.jobs.list_since(T0 + 41, 10) == []
    assert await subject.jobs.list_since(T0, 0) == []


def newer(document: Mapping[str, Any]) -> str:
    """``document`` as a newer release would store it: with a key this one does not know."""
    return json.dumps({**document, "added_by_a_newer_release": {"nested": [1, 2]}})


async def test_a_job_written_by_a_newer_release_reads_back_without_the_extra_keys(
    subject: Subject,
) -> None:
    if subject.raw is None:
        pytest.skip("this store keeps objects, not encoded rows")
    job = make_job("newer")
    job.start(1_700_000_010.0)
    job.deliver("text", "ru", 1_700_000_020.0)
    job.events.clear()
    await subject.jobs.add(job)
    source = {
        "kind": "audio",
        "file_id": "file-newer",
        "file_unique_id": "u-newer",
        "duration_seconds": 125.0,
        "file_size": 1 << 20,
        "mime_type": "audio/mpeg",
        "file_name": "t.mp3",
    }
    style = {
        "use_yo": False,
        "use_code_tags": True,
        "language": "ru",
        "output": "file",
        "ui_language": None,
    }
    await subject.raw.job_columns(job, {"source": newer(source), "style": newer(style)})

    assert await subject.jobs.get("newer") == job
    assert await subject.jobs.list_by_user(42, 5) == [job]
    assert await subject.jobs.find_transcript("u-newer", job.style) == job
    stored = await subject.jobs.get("newer")
    assert stored is not None
    stored.fail("late", 1_700_000_030.0)  # finished: ignored, but saved all the same
    await subject.jobs.save(stored)
    assert await subject.jobs.get("newer") == stored


async def test_settings_written_by_a_newer_release_read_back_without_the_extra_keys(
    subject: Subject,
) -> None:
    if subject.raw is None:
        pytest.skip("this store keeps objects, not encoded rows")
    await subject.raw.settings(5, newer({"language": "de", "output": "file"}))

    assert await subject.settings.get(5) == UserStyle(language="de", output=OutputMode.FILE)
    await subject.settings.save(5, UserStyle(use_yo=False))
    assert await subject.settings.get(5) == UserStyle(use_yo=False)


async def test_an_unreadable_row_is_a_permanent_storage_error(subject: Subject) -> None:
    if subject.raw is None:
        pytest.skip("this store keeps objects, not encoded rows")
    await subject.jobs.add(make_job("broken"))
    await subject.raw.job_columns(make_job("broken"), {"style": "not json"})
    await subject.raw.settings(6, '["not", "an", "object"]')

    with pytest.raises(StorageError) as job_error:
        await subject.jobs.get("broken")
    with pytest.raises(StorageError) as settings_error:
        await subject.settings.get(6)
    assert not job_error.value.transient and not settings_error.value.transient
