"""One transient storage fault at each write of a note's journey, and of a payment's credit.

A clean run counts the journey's storage writes; then, for each write ``i``, a fresh store
fails write ``i`` once (SQLite: the real ``SqliteDatabase`` whose ``i``-th transaction meets
"database is locked", through the adapter's own error mapping; Tablestore: the wire fake
answering the ``i``-th write request with an ambiguous 500, which the SDK adapter does not
resend). The real handler graph (``application.bootstrap``) runs on the real store; a
command that raised is handled again, as the inbox replays an update whose handling failed,
and the queue is drained as a worker would. Whatever write failed, every note ends answered
once or clearly refused, charged at most once, nothing left reserved or queued; every
payment is credited once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import attrs
import pytest

from application.bootstrap import Tuning, bootstrap
from application.commands import AcceptVoiceNote, Command, CompletePayment
from application.errors import PortError
from application.notices import Notice
from application.ports import AccountRepository, JobQueue, JobRepository, PaymentRepository
from application.reports import AcceptOutcome
from domain.catalogue import DEFAULT_PACKAGES, STARS, invoice_payload
from domain.jobs import AudioSource, JobStatus, MediaKind
from domain.policies import TranscriptionPolicy, price_minutes
from infrastructure.retrying import RetryPolicy
from infrastructure.sqlite import (
    SqliteAccountRepository,
    SqliteDatabase,
    SqliteJobQueue,
    SqliteJobRepository,
    SqlitePaymentRepository,
)
from infrastructure.tablestore import (
    TablestoreAccountRepository,
    TablestoreConnection,
    TablestoreJobRepository,
    TablestorePaymentRepository,
    create_tables,
)
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio, InMemoryJobQueue
from tests.fakes.tablestore import FakeTablestore

T = TypeVar("T")

TRIAL = 15
USER = 7
VISIBILITY = 60.0
LEASE = 600.0
REPLAYS = 6  # the inbox's bounded retries of one update
DRAIN_ROUNDS = 12
SHORT_SECONDS = 30.0  # processed inline, by the accept handler
LONG_SECONDS = 90.0  # queued, processed by the consumer
PACKAGE = DEFAULT_PACKAGES[0]
TERMINAL = {JobStatus.DELIVERED, JobStatus.FAILED, JobStatus.NO_SPEECH}
TABLESTORE_WRITES = frozenset({"PutRow", "UpdateRow", "DeleteRow", "BatchWriteRow"})
STORE_RETRY = RetryPolicy(
    attempts=3, base_delay_seconds=0.01, max_delay_seconds=0.02, budget_seconds=5.0
)


class FaultyDatabase(SqliteDatabase):
    """The real database; its write transaction number ``fail_at`` meets a lock another
    connection held past the busy timeout (raised inside the real transaction, so the
    rollback and the error mapping are the adapter's own)."""

    writes = 0
    fail_at: int | None = None
    injected = 0

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        index = self.writes
        self.writes += 1
        if index != self.fail_at:
            return await super().transaction(fn)
        self.injected += 1

        def locked(conn: sqlite3.Connection) -> T:
            raise sqlite3.OperationalError("database is locked")

        return await super().transaction(locked)


@dataclasses.dataclass
class Rig:
    world: World
    jobs: JobRepository
    accounts: AccountRepository
    payments: PaymentRepository
    queue: JobQueue
    writes: Callable[[], int]
    injected: Callable[[], int]
    write_plan: Callable[[], list[str]]
    outcomes: list[object] = dataclasses.field(default_factory=list)

    async def handle_until_done(self, command: Command) -> object:
        """The inbox's replay: a command whose handling raised is handled again, a little
        later, a bounded number of times."""
        error: Exception | None = None
        for _ in range(REPLAYS):
            try:
                outcome = await self.world.app.bus.handle(command)
            except Exception as raised:
                error = raised
                self.world.clock.advance(5)
                continue
            self.outcomes.append(outcome)
            return outcome
        raise AssertionError(f"{command!r} still fails after {REPLAYS} replays: {error!r}")

    async def drain(self) -> None:
        """A worker: take what is visible; when nothing is, time passes (visibility, lease)."""
        for _ in range(DRAIN_ROUNDS):
            with contextlib.suppress(PortError):
                await self.world.app.consumer.consume_one(wait_seconds=0)
            if await self.queue_empty():
                return
            self.world.clock.advance(max(VISIBILITY, LEASE) + 1)

    async def queue_empty(self) -> bool:
        if isinstance(self.queue, InMemoryJobQueue):
            return not self.queue.messages
        assert isinstance(self.queue, SqliteJobQueue)
        return await self.queue.depth() == 0


# (the write to fail, the clean run's write plan) -> a fresh rig
Build = Callable[[int | None, list[str]], Awaitable[Rig]]


def tuning() -> Tuning:
    return Tuning(
        policy=TranscriptionPolicy(format_word_threshold=5),
        trial_minutes=TRIAL,
        max_attempts=3,
        queue_visibility_seconds=VISIBILITY,
        job_lease_seconds=LEASE,
    )


@pytest.fixture
async def sqlite_rigs(tmp_path: Path) -> AsyncIterator[Build]:
    opened: list[SqliteDatabase] = []

    async def build(fail_at: int | None, plan: list[str]) -> Rig:
        world = World.build()
        db = FaultyDatabase(tmp_path / f"run-{len(opened)}" / "voicescribe.db")
        opened.append(db)
        await db.read(lambda conn: None)  # opened and migrated before counting
        db.fail_at = fail_at
        jobs, accounts = SqliteJobRepository(db), SqliteAccountRepository(db)
        payments = SqlitePaymentRepository(db)
        queue = SqliteJobQueue(db, VISIBILITY, clock=world.clock.now)
        ports = world.ports(jobs=jobs, accounts=accounts, payments=payments, queue=queue)
        world = attrs.evolve(world, app=bootstrap(ports, tuning()))
        return Rig(
            world,
            jobs,
            accounts,
            payments,
            queue,
            writes=lambda: db.writes,
            injected=lambda: db.injected,
            write_plan=lambda: ["transaction"] * db.writes,
        )

    yield build
    for db in opened:
        await db.close()


@pytest.fixture
async def tablestore_rigs() -> AsyncIterator[Build]:
    fakes: list[FakeTablestore] = []
    connections: list[TablestoreConnection] = []

    async def build(fail_at: int | None, plan: list[str]) -> Rig:
        fake = FakeTablestore()
        fake.__enter__()
        fakes.append(fake)
        connection = TablestoreConnection(
            fake.endpoint,
            fake.access_key_id,
            fake.access_key_secret,
            fake.instance,
            timeout_seconds=2.0,
            retry_policy=STORE_RETRY,
        )
        connections.append(connection)
        await create_tables(connection)
        world = World.build()
        jobs = TablestoreJobRepository(connection)
        accounts = TablestoreAccountRepository(connection)
        payments = TablestorePaymentRepository(connection)
        queue = InMemoryJobQueue(world.clock, visibility_seconds=VISIBILITY)
        ports = world.ports(jobs=jobs, accounts=accounts, payments=payments, queue=queue)
        world = attrs.evolve(world, queue=queue, app=bootstrap(ports, tuning()))
        done_before = len(fake.requests)

        def write_plan() -> list[str]:
            return [r.api for r in fake.requests[done_before:] if r.api in TABLESTORE_WRITES]

        def injected() -> int:
            return sum(
                r.api in TABLESTORE_WRITES and r.status == 500 for r in fake.requests[done_before:]
            )

        if fail_at is not None:
            fail_write(fake, fail_at, plan)
        return Rig(
            world,
            jobs,
            accounts,
            payments,
            queue,
            writes=lambda: len(write_plan()),
            injected=injected,
            write_plan=write_plan,
        )

    yield build
    for connection in connections:
        await connection.close()
    for fake in fakes:
        fake.__exit__(None, None, None)


def fail_write(fake: FakeTablestore, index: int, planned: list[str]) -> None:
    """The clean run's ``index``-th write is the k-th call of its API: the fake's faults
    count calls per API."""
    api = planned[index]
    earlier = sum(name == api for name in planned[:index])
    fake.fail(
        "OTSInternalServerError",
        status=500,
        message="Internal server error.",
        api=api,
        times=1,
        after=earlier,
    )


def voice(job_id: str, seconds: float) -> AudioSource:
    return AudioSource(MediaKind.VOICE, job_id, f"unique-{job_id}", seconds)


async def note_journey(rig: Rig, seconds: float) -> None:
    job_id = f"note-{int(seconds)}"
    rig.world.files.files[job_id] = FakeAudio(seconds, words=f"the words of {job_id}")
    await rig.handle_until_done(AcceptVoiceNote(job_id, USER, USER, voice(job_id, seconds)))
    await rig.drain()


async def short_note(rig: Rig) -> None:
    await note_journey(rig, SHORT_SECONDS)


async def long_note(rig: Rig) -> None:
    await note_journey(rig, LONG_SECONDS)


def payment_command() -> CompletePayment:
    return CompletePayment(
        buyer_id=USER,
        charge_id="charge-1",
        payload=invoice_payload(PACKAGE, USER),
        currency=STARS,
        total_amount=PACKAGE.stars,
    )


async def payment(rig: Rig) -> None:
    await rig.handle_until_done(payment_command())


async def assert_note_settled(rig: Rig, seconds: float) -> None:
    job_id = f"note-{int(seconds)}"
    job = await rig.jobs.get(job_id)
    assert job is not None, "the note left a job"
    answers = [text for delivered, text in rig.world.messenger.delivered if delivered == job_id]
    notices = [n for noticed, n in rig.world.messenger.notices if noticed == job_id]
    refusals = [
        o.notice
        for o in rig.outcomes
        if isinstance(o, AcceptOutcome) and isinstance(o.notice, Notice)
    ]
    account = await rig.accounts.get(USER)
    assert account is not None
    assert account.reserved == 0, f"minutes left reserved; job {job.status}"
    assert job.status in TERMINAL, f"the job was left {job.status}"
    if job.status is JobStatus.DELIVERED:
        assert len(answers) == 1, f"answered {len(answers)} times"
        assert account.spent == price_minutes(seconds), "charged once"
    else:
        assert answers == []
        assert notices or refusals, "refused without a word to the user"
        assert account.spent == 0, "not charged for what was not delivered"
    assert account.balance + account.reserved + account.spent == account.credited
    assert await rig.queue_empty(), "nothing left on the queue"


async def assert_short_settled(rig: Rig) -> None:
    await assert_note_settled(rig, SHORT_SECONDS)


async def assert_long_settled(rig: Rig) -> None:
    await assert_note_settled(rig, LONG_SECONDS)


async def assert_credited_once(rig: Rig) -> None:
    account = await rig.accounts.get(USER)
    assert account is not None
    assert account.payments.get("charge-1") == PACKAGE.minutes, "the charge was credited"
    assert account.balance == TRIAL + PACKAGE.minutes, "credited once"
    assert await rig.payments.get("charge-1") is not None, "the payment is on record"
    # Telegram delivers the same successful_payment again: nothing changes.
    await rig.handle_until_done(payment_command())
    again = await rig.accounts.get(USER)
    assert again is not None and again.balance == TRIAL + PACKAGE.minutes


Journey = Callable[[Rig], Awaitable[None]]
Check = Callable[[Rig], Awaitable[None]]
JOURNEYS: dict[str, tuple[Journey, Check]] = {
    "short note": (short_note, assert_short_settled),
    "long note": (long_note, assert_long_settled),
    "payment": (payment, assert_credited_once),
}


async def clean_run(build: Build, journey: Journey, check: Check) -> list[str]:
    """The journey's writes, in order, when nothing fails (what the check writes aside)."""
    rig = await build(None, [])
    await journey(rig)
    plan = rig.write_plan()
    await check(rig)
    assert rig.injected() == 0
    return plan


async def faulty_runs(build: Build, journey: Journey, check: Check, plan: list[str]) -> list[str]:
    """Fail each write once, in a fresh store; the writes whose fault was not survived."""
    lost: list[str] = []
    for index in range(len(plan)):
        rig = await build(index, plan)
        try:
            await journey(rig)
            assert rig.injected() == 1, f"the fault at write {index} was injected"
            await check(rig)
        except AssertionError as failure:
            lost.append(f"write {index}: {failure}".splitlines()[0])
    return lost


@pytest.mark.parametrize("journey", list(JOURNEYS))
async def test_sqlite_a_transient_fault_at_each_write_loses_nothing(
    sqlite_rigs: Build, journey: str
) -> None:
    await fault_at_each_write(sqlite_rigs, journey)


@pytest.mark.parametrize("journey", list(JOURNEYS))
async def test_tablestore_a_transient_fault_at_each_write_loses_nothing(
    tablestore_rigs: Build, journey: str
) -> None:
    await fault_at_each_write(tablestore_rigs, journey)


async def fault_at_each_write(build: Build, journey: str) -> None:
    run, check = JOURNEYS[journey]
    plan = await clean_run(build, run, check)
    assert len(plan) >= 2, plan

    lost = await faulty_runs(build, run, check, plan)

    assert lost == [], f"{len(lost)} of {len(plan)} faulty runs lost something:\n" + "\n".join(lost)
