"""Faults injected at the wire of each cloud service, under the whole application.

The real handler graph (``application.bootstrap``) runs with real adapters talking to the
protocol fakes of ``tests/fakes``: DashScope answering 429/500 to part of the requests,
Tablestore failing the writes that follow recognition, MNS handing out a message whose job
was already delivered. Whatever fails, every job ends settled, each user gets one answer
per job and each job is charged once (never when its answer could not be delivered).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import io
import wave
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import attrs
import pytest

from application.bootstrap import Tuning, bootstrap
from application.commands import AcceptVoiceNote
from application.errors import DeliveryFailed, FileUnavailable, PortError
from application.progress import Progress, Stage
from application.reports import Acceptance
from domain.jobs import AudioSource, JobStatus, MediaKind, VoiceJob
from domain.policies import PCM_16K, TranscriptionPolicy, price_minutes
from infrastructure.audio import PyAvConverter
from infrastructure.dashscope import DashScopeRecognizer
from infrastructure.mns import MnsJobQueue
from infrastructure.retrying import RetryPolicy
from infrastructure.tablestore import (
    TablestoreAccountRepository,
    TablestoreConnection,
    TablestoreJobRepository,
    create_tables,
)
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio, InMemoryJobQueue, RecordingMessenger
from tests.fakes.dashscope_server import (
    SERVER_ERROR,
    THROTTLED,
    Answer,
    FakeDashScope,
    RecordedRequest,
    Step,
)
from tests.fakes.mns_server import MnsFake
from tests.fakes.tablestore import FakeTablestore
from tests.integration.test_mns_queue import AK, FAST, QUEUE, SECRET, VISIBILITY

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "en-weather.ogg"
QUEUED_ALWAYS = TranscriptionPolicy(sync_threshold_seconds=0)  # every note goes to the queue
TRIAL = 15
QUEUE_VISIBILITY = 60.0

Hook = Callable[[VoiceJob], Awaitable[None]]


class HookedMessenger(RecordingMessenger):
    """Records like ``RecordingMessenger``; runs a test's hook at a stage or around delivery,
    and refuses delivery for chosen jobs."""

    def __init__(self) -> None:
        super().__init__()
        self.at_stage: dict[Stage, Hook] = {}
        self.before_deliver: Hook | None = None
        self.after_deliver: Hook | None = None
        self.refuse: dict[str, DeliveryFailed] = {}

    async def report_progress(self, job: VoiceJob, progress: Progress) -> None:
        await super().report_progress(job, progress)
        hook = self.at_stage.pop(progress.stage, None)
        if hook is not None:
            await hook(job)

    async def deliver(self, job: VoiceJob, text: str) -> None:
        if self.before_deliver is not None:
            hook, self.before_deliver = self.before_deliver, None
            await hook(job)
        if job.job_id in self.refuse:
            raise self.refuse[job.job_id]
        await super().deliver(job, text)
        if self.after_deliver is not None:
            hook, self.after_deliver = self.after_deliver, None
            await hook(job)

    @property
    def delivered_ids(self) -> list[str]:
        return [job_id for job_id, _ in self.delivered]


def voice(file_id: str, duration: float | None = 90.0) -> AudioSource:
    return AudioSource(MediaKind.VOICE, file_id, f"unique-{file_id}", duration)


async def settle_accounts(world: World, users: dict[int, list[str]]) -> None:
    """Each user's books: every listed job's price spent, nothing left reserved."""
    for user, job_ids in users.items():
        account = await world.accounts.get(user)
        assert account is not None
        prices = 0
        for job_id in job_ids:
            job = await world.jobs.get(job_id)
            assert job is not None
            prices += price_minutes(job.duration_seconds)
        assert (account.spent, account.reserved) == (prices, 0), f"user {user}"
        assert account.balance == TRIAL - prices
        assert account.balance + account.reserved + account.spent == account.credited


async def consume_like_a_worker(world: World) -> None:
    """One step of ``application.queue_consumer``: a port error is survived, not raised."""
    with contextlib.suppress(PortError):
        await world.app.consumer.consume_one(wait_seconds=0)


# --- 1. DashScope answers 429 / 500 to 30 % of the requests for a while -------------------

ASR_RETRY = RetryPolicy(
    attempts=4, base_delay_seconds=0.02, max_delay_seconds=0.05, budget_seconds=5.0
)
# A 429 with Retry-After: the adapter waits min(hint, max_delay), so the retry of that
# request is at least this far behind the refusal (the jittered 500 retries may come sooner).
THROTTLED_WITH_HINT = dataclasses.replace(THROTTLED, retry_after=1)
MIN_HINTED_GAP = ASR_RETRY.max_delay_seconds
FLAKY_REQUESTS = 30
JOBS = 20
USERS = 4
CONSUMERS = 4


def flaky_script() -> list[Step]:
    """3 of every 10 of the first 30 requests fail (never two in a row), then all succeed."""
    failures = iter([THROTTLED_WITH_HINT, SERVER_ERROR] * FLAKY_REQUESTS)
    return [next(failures) if i % 10 in (0, 3, 6) else Answer() for i in range(FLAKY_REQUESTS)]


def wav(pcm: bytes, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return buffer.getvalue()


async def sample_variants(converter: PyAvConverter, count: int) -> list[bytes]:
    """The sample with 0, 20, 40, ... ms of silence before it: the same speech, but a
    different MP3 per job, so each DashScope request can be traced to its job."""
    pcm = await converter.convert(SAMPLE.read_bytes(), PCM_16K)
    step = PCM_16K.sample_rate * 2 // 50  # 20 ms of 16-bit mono
    return [wav(bytes(step * index) + pcm, PCM_16K.sample_rate) for index in range(count)]


class SampleFiles:
    """A ``FileSource`` serving prepared audio bytes by file id."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    async def fetch(self, source: AudioSource) -> bytes:
        if source.file_id not in self.files:
            raise FileUnavailable(source.file_id)
        return self.files[source.file_id]


def audio_key(request: RecordedRequest) -> str:
    return hashlib.sha256(request.audio).hexdigest()[:12]


@pytest.fixture
async def world_on_flaky_dashscope() -> AsyncIterator[tuple[World, FakeDashScope, SampleFiles]]:
    world = World.build()
    files = SampleFiles()
    converter = PyAvConverter()
    with FakeDashScope(transcript=lambda r: f"Heard audio {audio_key(r)}.") as dashscope:
        recognizer = DashScopeRecognizer(
            dashscope.api_key, dashscope.base_url, timeout_seconds=5.0, retry=ASR_RETRY
        )
        queue = InMemoryJobQueue(world.clock, visibility_seconds=QUEUE_VISIBILITY)
        ports = world.ports(
            queue=queue,
            files=files,
            converter=converter,
            recognizer=recognizer,
        )
        tuning = Tuning(
            policy=QUEUED_ALWAYS,
            trial_minutes=TRIAL,
            max_attempts=3,
            queue_visibility_seconds=QUEUE_VISIBILITY,
        )
        app = bootstrap(ports, tuning)
        rig = attrs.evolve(world, queue=queue, converter=converter, app=app)  # type: ignore[arg-type]
        try:
            yield rig, dashscope, files
        finally:
            await recognizer.close()


async def drain_concurrently(world: World, consumers: int, rounds: int = 10) -> None:
    """``consumers`` loops take messages while any is visible; between rounds (all loops
    idle) the clock moves past the visibility timeout, so messages left for a retry come
    back."""
    queue = world.queue

    def visible() -> bool:
        now = world.clock.now()
        return any(float(m["visible_at"]) <= now for m in queue.messages)  # type: ignore[arg-type]

    async def loop() -> None:
        while visible():
            await world.app.consumer.consume_one(wait_seconds=0)

    for _ in range(rounds):
        await asyncio.gather(*(loop() for _ in range(consumers)))
        if not queue.messages:
            return
        world.clock.advance(QUEUE_VISIBILITY + 1)


async def test_thirty_percent_of_dashscope_calls_failing_delays_no_job_and_costs_nothing(
    world_on_flaky_dashscope: tuple[World, FakeDashScope, SampleFiles],
) -> None:
    world, dashscope, files = world_on_flaky_dashscope
    variants = await sample_variants(PyAvConverter(), JOBS)
    users: dict[int, list[str]] = {user: [] for user in range(1, USERS + 1)}
    for index, audio in enumerate(variants):
        files.files[f"f{index}"] = audio
        user = index % USERS + 1
        users[user].append(f"job-{index}")
        outcome = await world.app.bus.handle(
            AcceptVoiceNote(f"job-{index}", user, user, voice(f"f{index}", None))
        )
        assert outcome.acceptance is Acceptance.QUEUED
    dashscope.queue_asr(*flaky_script())

    await drain_concurrently(world, CONSUMERS)

    job_ids = [f"job-{index}" for index in range(JOBS)]
    statuses = {job_id: world.jobs.rows[job_id].status for job_id in job_ids}
    assert set(statuses.values()) == {JobStatus.DELIVERED}, statuses
    assert sorted(job_id for job_id, _ in world.messenger.delivered) == sorted(job_ids)
    texts = [text for _, text in world.messenger.delivered]
    assert len(set(texts)) == JOBS, "each job got the text of its own audio"
    assert world.messenger.notices == [], "no job was failed or reported busy"
    assert world.queue.messages == []
    await settle_accounts(world, users)

    # The failures were retried by the adapter with backoff, not turned into failed jobs.
    requests = list(dashscope.requests)
    failed = [r for r in requests if r.status != 200]
    assert len(failed) == 9
    assert {r.status for r in failed} == {429, 500}
    by_audio: dict[str, list[RecordedRequest]] = {}
    for request in requests:
        by_audio.setdefault(audio_key(request), []).append(request)
    assert len(by_audio) == JOBS
    for tries in by_audio.values():
        assert tries[-1].status == 200
        assert sum(t.status == 200 for t in tries) == 1, "recognized once per job"
    for refusal in failed:
        tries = by_audio[audio_key(refusal)]
        retry = tries[tries.index(refusal) + 1]
        assert refusal.answered_at is not None
        gap = retry.received_at - refusal.answered_at
        assert gap > 0
        if refusal.status == 429:
            assert gap >= MIN_HINTED_GAP - 0.005, f"retried {gap:.3f}s after a 429"


async def test_a_dashscope_outage_longer_than_the_retries_goes_back_to_the_queue(
    world_on_flaky_dashscope: tuple[World, FakeDashScope, SampleFiles],
) -> None:
    world, dashscope, files = world_on_flaky_dashscope
    [files.files["f"]] = await sample_variants(PyAvConverter(), 1)
    await world.app.bus.handle(AcceptVoiceNote("job", 1, 1, voice("f", None)))
    dashscope.queue_asr(*[THROTTLED, SERVER_ERROR] * 2)  # every try of the first attempt

    await drain_concurrently(world, CONSUMERS)

    job = world.jobs.rows["job"]
    # An outage does not use up an attempt: it is waited out (PROVIDER_OUTAGE_SECONDS).
    assert (job.status, job.attempts) == (JobStatus.DELIVERED, 1)
    assert [job_id for job_id, _ in world.messenger.delivered] == ["job"]
    assert [r.status for r in dashscope.requests] == [429, 500, 429, 500, 200]
    assert world.queue.messages == []
    await settle_accounts(world, {1: ["job"]})


# --- 2. Tablestore fails a write after recognition -----------------------------------------

STORE_RETRY = RetryPolicy(
    attempts=3, base_delay_seconds=0.01, max_delay_seconds=0.02, budget_seconds=5.0
)
USER = 7


@dataclasses.dataclass
class StoreRig:
    world: World
    fake: FakeTablestore
    messenger: HookedMessenger
    queue: InMemoryJobQueue

    def internal_error(self, *, after: int = 0) -> None:
        """The next UpdateRow (after ``after`` more) answered with an ambiguous 500: the
        adapter does not resend a write that may have landed, so the use case sees it."""
        self.fake.fail(
            "OTSInternalServerError",
            status=500,
            message="Internal server error.",
            api="UpdateRow",
            times=1,
            after=after,
        )

    def failed_writes(self) -> int:
        return sum(request.status == 500 for request in self.fake.calls("UpdateRow"))

    async def drain(self, rounds: int = 10) -> None:
        for _ in range(rounds):
            if not self.queue.messages:
                return
            await consume_like_a_worker(self.world)
            self.world.clock.advance(QUEUE_VISIBILITY + 1)


@pytest.fixture
def tablestore() -> Iterator[FakeTablestore]:
    with FakeTablestore() as fake:
        yield fake


@pytest.fixture
async def store_rig(tablestore: FakeTablestore) -> AsyncIterator[StoreRig]:
    connection = TablestoreConnection(
        tablestore.endpoint,
        tablestore.access_key_id,
        tablestore.access_key_secret,
        tablestore.instance,
        timeout_seconds=2.0,
        retry_policy=STORE_RETRY,
    )
    async with connection:
        await create_tables(connection)
        world = World.build()
        messenger = HookedMessenger()
        queue = InMemoryJobQueue(world.clock, visibility_seconds=QUEUE_VISIBILITY)
        jobs = TablestoreJobRepository(connection)
        accounts = TablestoreAccountRepository(connection)
        ports = world.ports(
            jobs=jobs,
            accounts=accounts,
            queue=queue,
            messenger=messenger,
        )
        tuning = Tuning(
            policy=QUEUED_ALWAYS,
            trial_minutes=TRIAL,
            max_attempts=3,
            queue_visibility_seconds=QUEUE_VISIBILITY,
        )
        world = attrs.evolve(  # type: ignore[arg-type]
            world,
            jobs=jobs,
            accounts=accounts,
            queue=queue,
            messenger=messenger,
            app=bootstrap(ports, tuning),
        )
        yield StoreRig(world, tablestore, messenger, queue)


async def accept(world: World, job_id: str, user: int = USER, seconds: float = 90.0) -> None:
    world.files.files[job_id] = FakeAudio(seconds, words=f"words of {job_id}")
    outcome = await world.app.bus.handle(AcceptVoiceNote(job_id, user, user, voice(job_id)))
    assert outcome.acceptance is Acceptance.QUEUED


def arm_at_formatting(rig: StoreRig) -> None:
    """The save that stores the recognized transcript (the next write after formatting)."""

    async def fail(job: VoiceJob) -> None:
        rig.internal_error()

    rig.messenger.at_stage[Stage.FORMATTING] = fail


def arm_after_delivery(*skips: int) -> Callable[[StoreRig], None]:
    """Writes after the text was delivered: the save of the delivered job is the first
    (retried at once when it fails), the minutes commit comes after it."""

    def arm(rig: StoreRig) -> None:
        async def fail(job: VoiceJob) -> None:
            for skip in skips:
                rig.internal_error(after=skip)

        rig.messenger.after_deliver = fail

    return arm


@pytest.mark.parametrize(
    ("arm", "faults"),
    [
        pytest.param(arm_at_formatting, 1, id="transcript save"),
        pytest.param(arm_after_delivery(0), 1, id="first write after delivery"),
        pytest.param(arm_after_delivery(1), 1, id="second write after delivery"),
        pytest.param(arm_after_delivery(1, 1), 2, id="two writes after delivery"),
    ],
)
async def test_a_tablestore_write_failing_after_recognition_loses_no_job(
    store_rig: StoreRig, arm: Callable[[StoreRig], None], faults: int
) -> None:
    rig, world = store_rig, store_rig.world
    await accept(world, "job")
    arm(rig)

    await rig.drain()

    assert rig.failed_writes() == faults, "the faults were injected"
    assert rig.queue.messages == [], "settled and acknowledged"
    await settle_accounts(world, {USER: ["job"]})  # charged exactly once
    job = await world.jobs.get("job")
    assert job is not None and job.status is JobStatus.DELIVERED
    assert rig.messenger.notices == []
    assert rig.messenger.delivered_ids == ["job"], "exactly one answer"


async def test_a_permanently_refused_delivery_is_never_charged(store_rig: StoreRig) -> None:
    rig, world = store_rig, store_rig.world
    await accept(world, "refused")
    await accept(world, "fine")
    rig.messenger.refuse["refused"] = DeliveryFailed("Forbidden: bot was blocked by the user")

    await rig.drain()

    refused, fine = await world.jobs.get("refused"), await world.jobs.get("fine")
    assert refused is not None and refused.status is JobStatus.FAILED
    assert fine is not None and fine.status is JobStatus.DELIVERED
    assert rig.messenger.delivered_ids == ["fine"]
    assert rig.queue.messages == []
    account = await world.accounts.get(USER)
    assert account is not None
    # 2 minutes each: the refused job's reservation went back to the balance.
    assert (account.balance, account.reserved, account.spent) == (TRIAL - 2, 0, 2)


async def test_a_transiently_refused_delivery_is_retried_and_charged_once(
    store_rig: StoreRig,
) -> None:
    rig, world = store_rig, store_rig.world
    await accept(world, "job")
    rig.messenger.refuse["job"] = DeliveryFailed("Telegram timed out", transient=True)

    await consume_like_a_worker(world)
    assert rig.messenger.delivered_ids == []
    rig.messenger.refuse.clear()
    world.clock.advance(QUEUE_VISIBILITY + 1)

    await rig.drain()

    job = await world.jobs.get("job")
    assert job is not None and job.status is JobStatus.DELIVERED
    assert rig.messenger.delivered_ids == ["job"]
    await settle_accounts(world, {USER: ["job"]})


# --- 3. MNS hands out a message whose job was already delivered ----------------------------


@dataclasses.dataclass
class MnsRig:
    world: World
    mns: MnsFake
    messenger: HookedMessenger

    def depth(self) -> int:
        return self.mns.depth(QUEUE)

    def pass_visibility(self) -> None:
        self.world.clock.advance(VISIBILITY + 1)
        self.mns.wake()


@pytest.fixture
async def mns_rig() -> AsyncIterator[MnsRig]:
    world = World.build()
    messenger = HookedMessenger()
    with MnsFake(AK, SECRET, clock=world.clock.now) as mns:
        mns.add_queue(QUEUE, visibility_timeout=VISIBILITY)
        queue = MnsJobQueue(
            mns.endpoint, AK, SECRET, QUEUE, VISIBILITY, request_timeout_seconds=2, retry=FAST
        )
        ports = world.ports(
            queue=queue,
            messenger=messenger,
        )
        tuning = Tuning(
            policy=QUEUED_ALWAYS,
            trial_minutes=TRIAL,
            max_attempts=3,
            queue_visibility_seconds=VISIBILITY,
        )
        app = bootstrap(ports, tuning)
        rig = attrs.evolve(world, messenger=messenger, app=app)  # type: ignore[arg-type]
        try:
            yield MnsRig(rig, mns, messenger)
        finally:
            await queue.close()


def deletes(rig: MnsRig) -> list[int]:
    """Statuses of the DeleteMessage calls MNS saw (400: a stale receipt handle)."""
    return [r.status for r in rig.mns.requests if r.operation == "DeleteMessage"]


async def assert_answered_once(rig: MnsRig) -> None:
    job = rig.world.jobs.rows["job"]
    assert job.status is JobStatus.DELIVERED
    assert rig.messenger.delivered_ids == ["job"], "no second answer"
    assert rig.messenger.notices == []
    assert rig.world.recognizer.calls == 1, "not recognized (paid for) again"
    await settle_accounts(rig.world, {USER: ["job"]})
    assert rig.depth() == 0, "the duplicate was acknowledged"


async def test_a_duplicate_message_for_a_delivered_job_is_acknowledged_and_ignored(
    mns_rig: MnsRig,
) -> None:
    rig = mns_rig
    await accept(rig.world, "job")
    first = await rig.world.app.consumer.consume_one(wait_seconds=1)
    assert first is not None and first.status is JobStatus.DELIVERED
    assert rig.depth() == 0

    await _send_again(rig, "job")
    again = await rig.world.app.consumer.consume_one(wait_seconds=1)

    assert again is not None and again.status is JobStatus.DELIVERED
    await assert_answered_once(rig)
    assert deletes(rig) == [204, 204]


async def _send_again(rig: MnsRig, job_id: str) -> None:
    """The producer sends the same job twice (a retried SendMessage whose first try
    landed): the adapter is as good a producer as any."""
    queue = MnsJobQueue(rig.mns.endpoint, AK, SECRET, QUEUE, VISIBILITY, retry=FAST)
    try:
        await queue.enqueue(job_id)
    finally:
        await queue.close()
    assert rig.depth() == 1


async def test_a_message_whose_delete_was_lost_is_redelivered_harmlessly(
    mns_rig: MnsRig,
) -> None:
    rig = mns_rig
    await accept(rig.world, "job")

    async def stall_past_visibility(job: VoiceJob) -> None:
        rig.pass_visibility()  # the worker stalls: its receipt expires before the delete

    rig.messenger.before_deliver = stall_past_visibility
    await consume_like_a_worker(rig.world)
    assert rig.messenger.delivered_ids == ["job"]
    assert rig.depth() == 1, "the delete carried an expired receipt: the message is back"

    report = await rig.world.app.consumer.consume_one(wait_seconds=1)

    assert report is not None and report.status is JobStatus.DELIVERED
    await assert_answered_once(rig)
    assert deletes(rig) == [400, 204], "the first delete was lost, the second one landed"


async def test_a_redelivery_while_the_job_still_runs_waits_for_it(mns_rig: MnsRig) -> None:
    rig = mns_rig
    await accept(rig.world, "job")
    second_worker: list[object] = []

    async def another_worker_takes_the_message(job: VoiceJob) -> None:
        rig.pass_visibility()
        second_worker.append(await rig.world.app.consumer.consume_one(wait_seconds=1))

    rig.messenger.before_deliver = another_worker_takes_the_message
    await consume_like_a_worker(rig.world)
    assert second_worker == [None], "the job's lease sent the second worker away"
    assert rig.messenger.delivered_ids == ["job"]

    rig.pass_visibility()
    report = await rig.world.app.consumer.consume_one(wait_seconds=1)

    assert report is not None and report.status is JobStatus.DELIVERED
    await assert_answered_once(rig)
    # The second worker put the job back (a fresh message, delayed for the rest of the
    # lease) and deleted the redelivered one; the first worker's receipt was replaced by
    # that redelivery; the fresh message then found the job delivered.
    assert deletes(rig) == [204, 400, 204], "put back, then the stale receipt, then settled"
