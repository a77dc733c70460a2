"""The Tablestore repositories with the real SDK against the local wire-level fake.

Nothing in the SDK is patched: requests are signed, sent over HTTP, parsed and answered by
``FakeTablestore``. Covers the round trip, uniqueness, optimistic concurrency (a job claimed
by two workers, twenty concurrent reservations), the error mapping and the retry rules
(reads retry any transient failure, writes only those the service did not run).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from tablestore import CapacityUnit, ReservedThroughput, TableMeta, TableOptions

from application.bus import Outbox
from application.errors import ConcurrentUpdate, StorageError
from application.minutes import MinutesBook
from domain.errors import InsufficientMinutes
from domain.jobs import AudioSource, JobStatus, MediaKind, OutputMode, UserStyle, VoiceJob
from infrastructure.retrying import RetryPolicy
from infrastructure.tablestore import (
    TablestoreAccountRepository,
    TablestoreConnection,
    TablestoreError,
    TablestoreJobRepository,
    create_tables,
)
from tests.fakes.tablestore import FakeTablestore

FAST_RETRY = RetryPolicy(attempts=3, base_delay_seconds=0.01, max_delay_seconds=0.02)


@pytest.fixture
def fake() -> Iterator[FakeTablestore]:
    with FakeTablestore() as server:
        yield server


def connect(
    fake: FakeTablestore, *, timeout_seconds: float = 10.0, table_prefix: str = "voicescribe_"
) -> TablestoreConnection:
    return TablestoreConnection(
        fake.endpoint,
        fake.access_key_id,
        fake.access_key_secret,
        fake.instance,
        table_prefix=table_prefix,
        timeout_seconds=timeout_seconds,
        retry_policy=FAST_RETRY,
    )


@pytest.fixture
async def connection(fake: FakeTablestore) -> AsyncIterator[TablestoreConnection]:
    async with connect(fake) as opened:
        await create_tables(opened)
        yield opened


@pytest.fixture
def jobs(connection: TablestoreConnection) -> TablestoreJobRepository:
    return TablestoreJobRepository(connection)


@pytest.fixture
def accounts(connection: TablestoreConnection) -> TablestoreAccountRepository:
    return TablestoreAccountRepository(connection)


def make_job(
    job_id: str = "job-1", user_id: int = 42, created_at: float = 1_700_000_000.25
) -> VoiceJob:
    return VoiceJob(
        job_id=job_id,
        user_id=user_id,
        chat_id=-100_123,
        source=AudioSource(MediaKind.VOICE, "file-1", "uniq-1", 61.5, 4096, "audio/ogg", "n.ogg"),
        duration_seconds=61.5,
        reserved_minutes=2,
        style=UserStyle(use_yo=False, use_code_tags=True, language="ru", output=OutputMode.FILE),
        created_at=created_at,
        updated_at=created_at,
        reply_to_message_id=77,
    )


async def test_a_full_job_round_trips_through_signed_requests(fake, jobs) -> None:
    job = make_job()
    job.start(1_700_000_001.5)
    job.deliver("Привет, мир — ёлка.", "ru", 1_700_000_009.75)
    job.events.clear()

    assert await jobs.add(job) is True
    loaded = await jobs.get(job.job_id)

    assert loaded == job
    assert loaded is not None and loaded.status is JobStatus.DELIVERED
    assert {r.api for r in fake.requests} >= {"CreateTable", "PutRow", "GetRow"}
    for request in fake.requests:
        assert request.signature_valid and request.status in (200, 409)
        assert request.headers["x-ots-accesskeyid"] == fake.access_key_id
        assert request.headers["x-ots-instancename"] == fake.instance


async def test_adding_an_existing_id_returns_false_and_keeps_the_first(jobs) -> None:
    assert await jobs.add(make_job()) is True
    assert await jobs.add(make_job(user_id=99, created_at=5.0)) is False
    assert await jobs.add(make_job()) is False
    stored = await jobs.get("job-1")
    assert stored is not None and stored.user_id == 42


async def test_an_add_cut_off_after_claiming_the_id_is_completed_by_a_retry(fake, jobs) -> None:
    fake.fail("OTSInternalServerError", status=500, api="PutRow", after=1)  # the job row
    with pytest.raises(StorageError) as failure:
        await jobs.add(make_job())
    assert failure.value.transient
    assert await jobs.get("job-1") is None  # the id is claimed, the job is not there

    assert await jobs.add(make_job()) is True
    assert await jobs.get("job-1") == make_job()
    assert await jobs.add(make_job()) is False


async def test_a_stale_save_raises_concurrent_update(jobs) -> None:
    await jobs.add(make_job())
    first, second = await jobs.get("job-1"), await jobs.get("job-1")
    assert first is not None and second is not None
    first.queue(1_700_000_001.0)
    await jobs.save(first)
    assert first.version == 1

    second.fail("gave up", 1_700_000_002.0)
    with pytest.raises(ConcurrentUpdate):
        await jobs.save(second)
    assert second.version == 0
    stored = await jobs.get("job-1")
    assert stored is not None and stored.status is JobStatus.QUEUED and stored.version == 1


async def test_saving_a_job_that_was_never_added_is_a_permanent_error(jobs) -> None:
    with pytest.raises(StorageError) as failure:
        await jobs.save(make_job())
    assert not isinstance(failure.value, ConcurrentUpdate)
    assert not failure.value.transient


async def test_two_workers_claim_one_job_and_exactly_one_wins(jobs) -> None:
    await jobs.add(make_job())
    workers = [await jobs.get("job-1") for _ in range(2)]

    async def claim(job: VoiceJob | None) -> bool:
        assert job is not None and job.start(1_700_000_003.0)
        try:
            await jobs.save(job)
        except ConcurrentUpdate:
            return False
        return True

    results = await asyncio.gather(*(claim(job) for job in workers))
    assert sorted(results) == [False, True]
    stored = await jobs.get("job-1")
    assert stored is not None and stored.status is JobStatus.PROCESSING and stored.attempts == 1


async def test_concurrent_reservations_never_overspend(fake, accounts) -> None:
    book = MinutesBook(accounts, Outbox(), trial_minutes=0)
    await book.change(7, lambda account: account.credit(30, "purchase"))

    # One MinutesBook per instance: one process's writes of an account take turns, so
    # only separate instances race on the version check.
    instances = [MinutesBook(accounts, Outbox(), trial_minutes=0) for _ in range(20)]

    async def reserve(index: int) -> bool:
        try:
            await instances[index].change(7, lambda account: account.reserve(f"job-{index}", 3))
        except InsufficientMinutes:
            return False
        return True

    # The first write lands late, after others moved the version on: at least one
    # conflict happens however the machine schedules the rest.
    fake.delay(0.5, api="UpdateRow", times=1)
    results = await asyncio.gather(*(reserve(index) for index in range(20)))

    assert results.count(True) == 10
    account = await accounts.get(7)
    assert account is not None
    assert (account.balance, account.reserved, account.credited) == (0, 30, 30)
    assert any(request.status == 403 for request in fake.calls("UpdateRow"))  # conflicts ran


async def test_server_busy_is_retried_even_for_writes(fake, jobs, accounts) -> None:
    fake.fail("OTSServerBusy", status=503, api="PutRow", times=2)
    assert await jobs.add(make_job()) is True
    fake.fail("OTSServerBusy", status=503, api="UpdateRow", times=1)
    job = await jobs.get("job-1")
    assert job is not None
    job.queue(1.0)
    await jobs.save(job)
    assert len(fake.calls("UpdateRow")) == 2
    assert (await jobs.get("job-1")).status is JobStatus.QUEUED  # type: ignore[union-attr]


async def test_a_persistent_500_is_a_transient_error_after_bounded_retries(fake, jobs) -> None:
    await jobs.add(make_job())
    job = await jobs.get("job-1")
    assert job is not None
    fake.fail("OTSInternalServerError", status=500, message="boom", times=None)
    reads_before = len(fake.calls("GetRow"))

    with pytest.raises(StorageError) as read_failure:
        await jobs.get("job-1")
    assert read_failure.value.transient and "OTSInternalServerError" in str(read_failure.value)
    assert len(fake.calls("GetRow")) - reads_before == FAST_RETRY.attempts

    job.queue(2.0)
    with pytest.raises(StorageError) as write_failure:
        await jobs.save(job)  # it may have landed: not sent twice, the caller re-reads
    assert write_failure.value.transient
    assert len(fake.calls("UpdateRow")) == 1
    assert job.version == 0


async def test_a_timed_out_read_is_retried(fake) -> None:
    async with connect(fake, timeout_seconds=0.2) as connection:
        await create_tables(connection)
        jobs = TablestoreJobRepository(connection)
        await jobs.add(make_job())
        fake.delay(0.5, api="GetRow", times=1)
        assert await jobs.get("job-1") == make_job()


async def test_a_timed_out_write_is_not_resent_though_it_may_have_landed(fake) -> None:
    async with connect(fake, timeout_seconds=0.2) as connection:
        await create_tables(connection)
        jobs = TablestoreJobRepository(connection)
        await jobs.add(make_job())
        job = await jobs.get("job-1")
        assert job is not None
        job.queue(1.0)
        fake.delay(0.4, api="UpdateRow", times=1)
        with pytest.raises(StorageError) as failure:
            await jobs.save(job)
        assert failure.value.transient and len(fake.calls("UpdateRow")) == 1
        await asyncio.sleep(0.3)  # the slow write lands after the client gave up
        with pytest.raises(ConcurrentUpdate):
            await jobs.save(job)
        stored = await jobs.get("job-1")
        assert stored is not None and (stored.status, stored.version) == (JobStatus.QUEUED, 1)


async def test_wrong_credentials_are_a_permanent_error(fake) -> None:
    connection = TablestoreConnection(
        fake.endpoint, fake.access_key_id, "not-the-secret", fake.instance, retry_policy=FAST_RETRY
    )
    async with connection:
        with pytest.raises(TablestoreError) as failure:
            await TablestoreAccountRepository(connection).get(1)
    assert failure.value.code == "OTSAuthFailed" and not failure.value.transient
    assert [r.signature_valid for r in fake.requests] == [False]


async def test_an_unreachable_endpoint_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    async with TablestoreConnection(
        f"http://127.0.0.1:{port}", "ak", "sk", "inst", retry_policy=FAST_RETRY
    ) as connection:
        with pytest.raises(StorageError) as failure:
            await TablestoreAccountRepository(connection).get(1)
    assert failure.value.transient


async def test_create_tables_is_idempotent(fake, connection) -> None:
    prefix = "voicescribe_"
    roles = [
        "accounts",
        "action_results",
        "chats",
        "job_files",
        "job_keys",
        "jobs",
        "payments",
        "processed_updates",
        "recognizer_throughput",
        "settings",
    ]
    assert sorted(fake.store.tables) == [prefix + role for role in roles]
    assert await create_tables(connection) == []
    assert fake.store.tables[f"{prefix}jobs"].time_to_live == 7 * 24 * 3600
    assert fake.store.tables[f"{prefix}accounts"].time_to_live == -1
    assert fake.store.tables[f"{prefix}payments"].time_to_live == -1
    assert fake.store.tables[f"{prefix}action_results"].time_to_live == 7 * 24 * 3600
    assert fake.store.tables[f"{prefix}recognizer_throughput"].time_to_live == -1


async def test_create_tables_refuses_a_table_with_another_key(fake) -> None:
    async with connect(fake, table_prefix="other_") as connection:
        meta = TableMeta("other_accounts", [("id", "STRING")])
        throughput = ReservedThroughput(CapacityUnit(0, 0))
        await connection.call(
            "CreateTable",
            lambda client: client.create_table(meta, TableOptions(), throughput),
            idempotent=False,
        )
        with pytest.raises(StorageError, match="other_accounts exists with primary key"):
            await create_tables(connection)


async def test_list_by_user_pages_newest_first(fake, jobs) -> None:
    for index in range(7):
        assert await jobs.add(make_job(f"j{index}", created_at=1000.0 + index))
    await jobs.add(make_job("other", user_id=43, created_at=5000.0))

    listed = await jobs.list_by_user(42, 5)

    assert [job.job_id for job in listed] == ["j6", "j5", "j4", "j3", "j2"]
    assert await jobs.list_by_user(42, 0) == []
    assert [job.job_id for job in await jobs.list_by_user(43, 10)] == ["other"]
    assert await jobs.list_by_user(44, 10) == []
