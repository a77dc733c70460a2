"""Jobs a dead process left, jobs held by a live worker, and jobs whose recognizer is down.

Every process that runs jobs sweeps; a replayed update resumes its stuck job; a live lease
puts a redelivered message back without counting it; a running job renews its lease; a
recognizer outage is waited out (up to PROVIDER_OUTAGE_SECONDS), the owner told once.
"""

from __future__ import annotations

import asyncio

from application.bootstrap import Tuning, bootstrap
from application.commands import AcceptVoiceNote
from application.errors import RecognitionFailed
from application.notices import NoticeReason
from application.ports import Recognition
from application.queue_consumer import run_workers
from application.reports import Acceptance
from domain.jobs import AudioSource, JobStatus, MediaKind, UserStyle, VoiceJob
from domain.policies import AudioProfile, TranscriptionPolicy, price_minutes
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio, FakeRecognizer
from tests.bounded_waits import finish, until

USER = 7


def note(name: str, seconds: float) -> AcceptVoiceNote:
    return AcceptVoiceNote(name, USER, USER, AudioSource(MediaKind.VOICE, name, name, seconds))


def sent(world: World) -> list[tuple[str, str]]:
    """What was delivered, without the formatter's mark."""
    return [(job_id, text.removeprefix("[local] ")) for job_id, text in world.messenger.delivered]


def accepted(world: World, name: str, seconds: float) -> VoiceJob:
    """A job as acceptance stores it, before anything else happened to it."""
    now = world.clock.now()
    source = AudioSource(MediaKind.VOICE, name, name, seconds)
    return VoiceJob(name, USER, USER, source, seconds, price_minutes(seconds), UserStyle(),
                    now, now)  # fmt: skip


def claimed_by_a_dead_worker(world: World, job_id: str, lease_seconds: float = 60.0) -> None:
    """The job as a process killed mid-job leaves it: processing, under its lease."""
    job = world.jobs.rows[job_id]
    job.start(world.clock.now(), lease_seconds)
    job.version += 1
    world.jobs.rows[job_id] = job


async def test_run_workers_also_sweeps_so_a_dead_processs_inline_job_is_completed() -> None:
    world = World.build(job_lease_seconds=60.0, queue_visibility_seconds=120.0)
    world.files.files["a"] = FakeAudio(30.0, "short one")
    await world.jobs.add(accepted(world, "a", 30.0))
    claimed_by_a_dead_worker(world, "a")  # the inline path: no queue message at all
    world.clock.advance(60 + 120 + 1)  # lease over, and untouched for stale_after

    stop = asyncio.Event()
    workers = asyncio.create_task(run_workers(world.app.consumer, 1, stop))
    await until(
        lambda: world.jobs.rows["a"].status is JobStatus.DELIVERED, 60, "the swept job delivered"
    )
    stop.set()
    await finish(workers, 60, "the workers")
    assert sent(world) == [("a", "short one")]


async def test_a_replayed_update_resumes_its_stuck_short_job_and_charges_once(
    world: World,
) -> None:
    world.files.files["a"] = FakeAudio(30.0, "resumed")
    await world.app.minutes.change(USER, lambda account: None)
    await world.jobs.add(accepted(world, "a", 30.0))  # the process died right after
    # storing the job, before reserving its minutes: the resumed job reserves them once.

    outcome = await world.app.bus.handle(note("a", 30.0))

    assert outcome.acceptance is Acceptance.PROCESSED
    assert sent(world) == [("a", "resumed")]
    account = world.accounts.rows[USER]
    assert (account.spent, account.reserved) == (1, 0)
    again = await world.app.bus.handle(note("a", 30.0))
    assert again.acceptance is Acceptance.DUPLICATE, "finished: a duplicate"
    assert world.accounts.rows[USER].spent == 1


async def test_a_replayed_update_whose_worker_died_mid_job_resumes_after_the_lease() -> None:
    world = World.build(job_lease_seconds=60.0)
    world.files.files["a"] = FakeAudio(30.0, "after the kill")
    await world.jobs.add(accepted(world, "a", 30.0))
    await world.app.minutes.change(USER, lambda account: account.reserve("a", 1))
    claimed_by_a_dead_worker(world, "a")

    live = await world.app.bus.handle(note("a", 30.0))
    assert live.acceptance is Acceptance.DUPLICATE, "its lease is live: someone is on it"
    assert world.messenger.delivered == []

    world.clock.advance(61)
    resumed = await world.app.bus.handle(note("a", 30.0))

    assert resumed.acceptance is Acceptance.PROCESSED
    assert sent(world) == [("a", "after the kill")]
    account = world.accounts.rows[USER]
    assert (account.spent, account.reserved) == (1, 0), "the one reservation, committed once"


async def test_a_replayed_update_queues_its_stuck_long_job_again(world: World) -> None:
    world.files.files["a"] = FakeAudio(90.0, "long one")
    await world.jobs.add(accepted(world, "a", 90.0))

    outcome = await world.app.bus.handle(note("a", 90.0))

    assert outcome.acceptance is Acceptance.QUEUED
    assert world.jobs.rows["a"].status is JobStatus.QUEUED
    again = await world.app.bus.handle(note("a", 90.0))
    assert again.acceptance is Acceptance.DUPLICATE, "queued and fresh: waiting, not stuck"
    report = await world.app.consumer.consume_one(0)
    assert report is not None and report.status is JobStatus.DELIVERED
    assert world.accounts.rows[USER].spent == 2


async def test_redeliveries_during_a_live_lease_neither_count_nor_fail_the_job() -> None:
    world = World.build(job_lease_seconds=600.0, max_attempts=3)
    world.files.files["a"] = FakeAudio(90.0, "held")
    await world.app.bus.handle(note("a", 90.0))
    claimed_by_a_dead_worker(world, "a", lease_seconds=600.0)

    for redelivery in range(20):
        world.queue.messages[0]["count"] = redelivery + 1  # the queue's count keeps rising
        assert await world.app.consumer.consume_one(0) is None
        assert len(world.queue.messages) == 1, "put back as one fresh message"
        world.clock.advance(20)
        world.queue.messages[0]["visible_at"] = 0.0  # and delivered again at once

    job = world.jobs.rows["a"]
    assert (job.status, job.attempts) == (JobStatus.PROCESSING, 1)
    assert world.messenger.notices == [] and world.recognizer.calls == 0

    world.clock.advance(600)  # the dead worker's lease runs out
    report = await world.app.consumer.consume_one(0)
    assert report is not None and report.status is JobStatus.DELIVERED
    assert sent(world) == [("a", "held")]
    assert world.accounts.rows[USER].spent == 2
    assert world.queue.messages == []


async def test_a_put_back_message_waits_for_the_lease_to_run_out() -> None:
    world = World.build(job_lease_seconds=100.0)
    world.files.files["a"] = FakeAudio(90.0, "later")
    await world.app.bus.handle(note("a", 90.0))
    claimed_by_a_dead_worker(world, "a", lease_seconds=100.0)
    world.clock.advance(30)

    assert await world.app.consumer.consume_one(0) is None
    world.clock.advance(69)
    assert await world.app.consumer.consume_one(0) is None, "hidden until the lease is over"
    world.clock.advance(2)
    report = await world.app.consumer.consume_one(0)
    assert report is not None and report.status is JobStatus.DELIVERED


class GatedRecognizer(FakeRecognizer):
    """Recognizes only when let through, so a job stays in hand as long as a test wants."""

    def __init__(self) -> None:
        super().__init__()
        self.started = asyncio.Event()
        self.gate = asyncio.Event()

    async def recognize(
        self,
        audio: bytes,
        profile: AudioProfile,
        language: str | None,
        language_hint: str | None = None,
    ) -> Recognition:
        self.started.set()
        await self.gate.wait()
        return await super().recognize(audio, profile, language, language_hint)


async def test_a_running_job_renews_its_lease_so_no_one_else_takes_it() -> None:
    world = World.build()
    gated = GatedRecognizer()
    tuning = Tuning(
        policy=TranscriptionPolicy(format_word_threshold=5),
        job_lease_seconds=60.0,
        lease_renewal_seconds=0.02,
    )
    app = bootstrap(world.ports(recognizer=gated), tuning)
    world.files.files["a"] = FakeAudio(90.0, "long job")
    await app.bus.handle(note("a", 90.0))
    running = asyncio.create_task(app.consumer.consume_one(0))
    await finish(asyncio.create_task(gated.started.wait()), 60, "recognition to start")

    world.clock.advance(600)  # far past the lease it took: only renewals keep it
    await until(
        lambda: (world.jobs.rows["a"].lease_expires_at or 0) > world.clock.now(),
        60,
        "the lease renewed",
    )
    await world.queue.enqueue("a")  # a duplicate message (a sweep, a replay)
    world.queue.messages[0]["visible_at"] = world.clock.now() + 10_000  # the one in hand
    duplicate = asyncio.create_task(app.consumer.consume_one(0))
    assert await finish(duplicate, 60, "the duplicate") is None, "put back: the job is held"
    assert gated.calls == 0

    gated.gate.set()
    report = await finish(running, 60, "the running job")
    assert report is not None and report.status is JobStatus.DELIVERED
    assert sent(world) == [("a", "long job")]
    assert gated.calls == 1


async def test_a_lease_renewal_never_overwrites_a_job_changed_by_someone_else() -> None:
    world = World.build()
    gated = GatedRecognizer()
    tuning = Tuning(job_lease_seconds=60.0, lease_renewal_seconds=0.02)
    app = bootstrap(world.ports(recognizer=gated), tuning)
    world.files.files["a"] = FakeAudio(90.0, "contested")
    await app.bus.handle(note("a", 90.0))
    running = asyncio.create_task(app.consumer.consume_one(0))
    await finish(asyncio.create_task(gated.started.wait()), 60, "recognition to start")

    taken = world.jobs.rows["a"]  # the owner's /flush failed it meanwhile
    taken.fail("flushed", world.clock.now())
    taken.version += 1
    world.jobs.rows["a"] = taken
    await until(lambda: world.jobs.conflicts > 0, 60, "a renewal meeting the change")

    gated.gate.set()
    await asyncio.wait({running}, timeout=60)
    assert running.done()
    stored = world.jobs.rows["a"]
    assert (stored.status, stored.error) == (JobStatus.FAILED, "flushed"), "not overwritten"
    assert world.messenger.delivered == [], "its worker lost it: nothing sent"


async def test_a_recognizer_outage_of_ten_minutes_is_waited_out() -> None:
    world = World.build(provider_outage_seconds=1800.0, max_attempts=3)
    world.files.files["a"] = FakeAudio(90.0, "patience")
    await world.app.bus.handle(note("a", 90.0))
    down_until = world.clock.now() + 600
    tries = 0
    while world.jobs.rows["a"].status is not JobStatus.DELIVERED:
        if world.clock.now() < down_until:
            world.recognizer.failures.append(RecognitionFailed("503", transient=True))
        await world.app.consumer.consume_one(0)
        tries += 1
        assert tries < 100
        if world.queue.messages:
            due = min(float(m["visible_at"]) for m in world.queue.messages)  # type: ignore[arg-type]
            world.clock.current = max(world.clock.current, due)

    assert tries > 3, "more tries than attempts: waiting used none of them"
    delayed = [n for _, n in world.messenger.notices if n.reason is NoticeReason.DELAYED]
    assert len(delayed) == 1, "told once"
    assert sent(world) == [("a", "patience")]
    assert world.accounts.rows[USER].spent == 2


async def test_an_inline_job_meeting_an_outage_goes_to_the_queue_with_a_delay(
    world: World,
) -> None:
    world.files.files["a"] = FakeAudio(20.0, "short")
    world.recognizer.failures.append(RecognitionFailed("429", transient=True))

    outcome = await world.app.bus.handle(note("a", 20.0))

    assert outcome.acceptance is Acceptance.QUEUED
    assert await world.app.consumer.consume_one(0) is None, "not due yet"
    world.clock.advance(15)
    report = await world.app.consumer.consume_one(0)
    assert report is not None and report.status is JobStatus.DELIVERED


async def test_an_outage_longer_than_the_limit_fails_the_job_and_releases_its_minutes() -> None:
    world = World.build(provider_outage_seconds=300.0)
    world.files.files["a"] = FakeAudio(90.0)
    await world.app.bus.handle(note("a", 90.0))
    balance = world.accounts.rows[USER].balance
    tries = 0
    while not world.jobs.rows["a"].status.is_finished:
        world.recognizer.failures.append(RecognitionFailed("timed out", transient=True))
        await world.app.consumer.consume_one(0)
        tries += 1
        assert tries < 100
        if world.queue.messages:
            due = min(float(m["visible_at"]) for m in world.queue.messages)  # type: ignore[arg-type]
            world.clock.current = max(world.clock.current, due)

    job = world.jobs.rows["a"]
    assert job.status is JobStatus.FAILED
    assert job.outage_since is not None and world.clock.now() - job.outage_since >= 300
    reasons = [n.reason for _, n in world.messenger.notices]
    assert reasons == [NoticeReason.DELAYED, NoticeReason.SERVICE_BUSY]
    account = world.accounts.rows[USER]
    assert (account.reserved, account.spent, account.balance) == (0, 0, balance + 2)
    assert world.queue.messages == []


async def test_a_replayed_update_of_a_queued_job_whose_message_was_never_sent_queues_it(
    world: World,
) -> None:
    world.files.files["q"] = FakeAudio(600.0, "queued at last")
    job = accepted(world, "q", 600.0)
    await world.jobs.add(job)
    job.queue(world.clock.now())
    await world.jobs.save(job)  # the process died here, before sending the queue message
    assert await world.queue.receive(0) is None

    outcome = await world.app.bus.handle(note("q", 600.0))  # the update's replay

    assert outcome.acceptance is Acceptance.QUEUED
    report = await world.app.consumer.consume_one(0)
    assert report is not None and report.status is JobStatus.DELIVERED
    assert sent(world) == [("q", "queued at last")]
