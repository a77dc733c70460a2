"""One contract for every ``UserDataEraser`` (#17): in memory, SQLite, and Tablestore (the
real SDK against its wire-level fake).

Why: ``/forget`` and the retention sweep rest on it. An erased job is gone for every way
of reading it (by id, by user, from the transcript cache), is counted once, and its id is
free again; a job not finished is never erased; the sweep's listing is finished jobs
older than its cutoff, oldest first; settings erased read as none. In SQLite the erased
text is not left readable in the file's free pages; in Tablestore no index row is left.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import attrs
import pytest

from application.ports import (
    ActionResultRepository,
    JobRepository,
    PreferencesRepository,
    UserDataEraser,
)
from domain.jobs import JobStatus, UserStyle, VoiceJob
from domain.transcript_actions import ActionResult
from infrastructure.sqlite import (
    SqliteActionResults,
    SqliteDatabase,
    SqliteJobRepository,
    SqlitePreferencesRepository,
    SqliteUserDataEraser,
)
from infrastructure.tablestore import (
    TablestoreActionResults,
    TablestoreConnection,
    TablestoreJobRepository,
    TablestorePreferencesRepository,
    TablestoreUserDataEraser,
)
from tests.application.in_memory import (
    InMemoryActionResults,
    InMemoryJobRepository,
    InMemoryPreferencesRepository,
)
from tests.application.in_memory_erasure import InMemoryUserDataEraser
from tests.contract.connections import fake_tablestore, sqlite_database
from tests.contract.test_repository_contract import make_job

T0 = 1_700_000_000.0
SECRET_WORDS = "the secret words of a forgotten note"


@attrs.frozen
class Subject:
    jobs: JobRepository
    settings: PreferencesRepository
    eraser: UserDataEraser
    actions: ActionResultRepository
    sqlite: SqliteDatabase | None = None
    tablestore: TablestoreConnection | None = None


@pytest.fixture(params=["in_memory", "sqlite", "tablestore"])
async def subject(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Subject]:
    async with AsyncExitStack() as stack:
        if request.param == "in_memory":
            jobs, settings = InMemoryJobRepository(), InMemoryPreferencesRepository()
            actions = InMemoryActionResults()
            yield Subject(jobs, settings, InMemoryUserDataEraser(jobs, settings, actions), actions)
        elif request.param == "sqlite":
            db = sqlite_database(stack, tmp_path / "erasure.db")
            yield Subject(
                SqliteJobRepository(db),
                SqlitePreferencesRepository(db),
                SqliteUserDataEraser(db),
                SqliteActionResults(db),
                sqlite=db,
            )
        else:
            connection = await fake_tablestore(stack)
            yield Subject(
                TablestoreJobRepository(connection),
                TablestorePreferencesRepository(connection),
                TablestoreUserDataEraser(connection),
                TablestoreActionResults(connection),
                tablestore=connection,
            )


async def stored(subject: Subject, job_id: str, user_id: int, finished_at: float) -> VoiceJob:
    """A delivered job of ``user_id``, finished at ``finished_at``."""
    job = make_job(job_id, user_id, created_at=finished_at - 100)
    assert await subject.jobs.add(job)
    job.start(finished_at - 50)
    job.deliver(SECRET_WORDS, "en", finished_at)
    await subject.jobs.save(job)
    job.events.clear()
    return job


async def test_an_erased_job_is_gone_for_every_reader_and_counted_once(subject: Subject) -> None:
    mine = await stored(subject, "mine", 42, T0)
    other = await stored(subject, "other", 43, T0)

    assert await subject.eraser.erase_jobs([mine]) == 1

    assert await subject.jobs.get("mine") is None
    assert await subject.jobs.list_by_user(42, 10) == []
    assert await subject.jobs.find_transcript(mine.source.file_unique_id, mine.style) is None
    assert await subject.jobs.get("other") == other
    assert await subject.eraser.erase_jobs([mine]) == 0, "erased already: not counted again"


async def test_an_erased_jobs_id_may_be_used_again(subject: Subject) -> None:
    job = await stored(subject, "again", 42, T0)
    await subject.eraser.erase_jobs([job])
    assert await subject.jobs.add(make_job("again", 42, created_at=T0 + 10)) is True
    found = await subject.jobs.get("again")
    assert found is not None and found.status is JobStatus.ACCEPTED


async def test_a_job_not_finished_is_never_erased(subject: Subject) -> None:
    working = make_job("working", 42, created_at=T0)
    await subject.jobs.add(working)
    working.start(T0 + 1)
    await subject.jobs.save(working)

    assert await subject.eraser.erase_jobs([working]) == 0
    stored_job = await subject.jobs.get("working")
    assert stored_job is not None and stored_job.status is JobStatus.PROCESSING


async def test_finished_before_lists_old_finished_jobs_oldest_first(subject: Subject) -> None:
    await stored(subject, "newest", 1, T0 + 300)
    await stored(subject, "oldest", 2, T0 + 100)
    await stored(subject, "middle", 3, T0 + 200)
    unfinished = make_job("unfinished", 4, created_at=T0)
    await subject.jobs.add(unfinished)

    old = await subject.eraser.finished_before(T0 + 250, 10)
    assert [job.job_id for job in old] == ["oldest", "middle"]
    assert [job.job_id for job in await subject.eraser.finished_before(T0 + 250, 1)] == ["oldest"]
    assert await subject.eraser.finished_before(T0, 10) == []


async def test_erased_settings_read_as_none(subject: Subject) -> None:
    await subject.settings.save(42, UserStyle(use_yo=False))
    await subject.settings.save(43, UserStyle(use_code_tags=True))

    assert await subject.eraser.erase_settings(42) is True
    assert await subject.settings.get(42) is None
    assert await subject.settings.get(43) == UserStyle(use_code_tags=True)
    assert await subject.eraser.erase_settings(42) is False


async def test_sqlite_leaves_no_erased_text_in_the_file(subject: Subject, tmp_path: Path) -> None:
    if subject.sqlite is None:
        pytest.skip("SQLite's file")
    job = await stored(subject, "secret", 42, T0)
    # Off, as in builds without SQLITE_SECURE_DELETE (Debian's has it on): the eraser
    # must turn it on itself.
    await subject.sqlite.transaction(lambda conn: conn.execute("PRAGMA secure_delete = OFF"))
    checkpoint(subject.sqlite.path)  # the text is in the main file now
    assert SECRET_WORDS.encode() in subject.sqlite.path.read_bytes()

    await subject.eraser.erase_jobs([job])
    await subject.sqlite.close()
    checkpoint(subject.sqlite.path)

    for path in subject.sqlite.path.parent.iterdir():
        assert SECRET_WORDS.encode() not in path.read_bytes(), path.name


async def test_tablestore_leaves_no_index_row(subject: Subject) -> None:
    if subject.tablestore is None:
        pytest.skip("Tablestore's index tables")
    connection = subject.tablestore
    job = await stored(subject, "indexed", 42, T0)
    await subject.eraser.erase_jobs([job])

    tables = connection.tables
    for table, key in [
        (tables.job_keys, [("job_id", "indexed")]),
        (
            tables.job_files,
            [
                ("file_unique_id", job.source.file_unique_id),
                ("created_us", round(job.created_at * 1_000_000)),
                ("job_id", "indexed"),
            ],
        ),
    ]:
        _, row, _ = await connection.call(
            f"GetRow {table}",
            lambda client, table=table, key=key: client.get_row(table, key, max_version=1),
            idempotent=True,
        )
        assert row is None, table


def checkpoint(path: Path) -> None:
    """Move everything in the WAL into the main file and empty the WAL."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        conn.close()


async def test_the_results_of_actions_on_an_erased_job_go_with_it(subject: Subject) -> None:
    """#17: a summary or translation of a forgotten transcript is forgotten too."""
    mine = await stored(subject, "mine", 42, T0)
    await stored(subject, "other", 43, T0)
    for job_id, user_id in (("mine", 42), ("other", 43)):
        for key in ("summary", "translate:ru"):
            result = ActionResult(job_id, key, user_id, SECRET_WORDS, "qwen", 1, T0)
            assert await subject.actions.add(result)

    assert await subject.eraser.erase_jobs([mine]) == 1

    assert await subject.actions.get("mine", "summary") is None
    assert await subject.actions.get("mine", "translate:ru") is None
    assert await subject.actions.get("other", "summary") is not None, "others' results stay"
