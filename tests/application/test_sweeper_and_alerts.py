"""No job is left unfinished forever, and the owner hears about system failures only."""

from __future__ import annotations

from application.commands import AcceptVoiceNote, SweepStuckJobs
from application.errors import RecognitionFailed
from domain.jobs import AudioSource, JobStatus, MediaKind, UserStyle, VoiceJob
from domain.rate_limit import RateLimit
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio


def note(name: str, seconds: float) -> AcceptVoiceNote:
    return AcceptVoiceNote(name, 3, 3, AudioSource(MediaKind.VOICE, name, name, seconds))


async def test_a_job_whose_worker_died_is_queued_again_and_completed(world: World) -> None:
    world.files.files["a"] = FakeAudio(90.0, "finally")
    await world.app.bus.handle(note("a", 90.0))
    message = await world.queue.receive(0)
    assert message is not None
    job = world.jobs.rows["a"]
    job.start(world.clock.now(), 600)  # a worker claimed it, then died...
    world.jobs.rows["a"] = job
    await world.queue.acknowledge(message)  # ...and its message was lost too
    world.clock.advance(60)
    outcome = await world.app.bus.handle(SweepStuckJobs(older_than_seconds=30))
    assert (outcome.requeued, outcome.failed) == (0, 0), "its lease is still live"

    world.clock.advance(700)
    outcome = await world.app.bus.handle(SweepStuckJobs(older_than_seconds=30))
    assert (outcome.requeued, outcome.failed) == (1, 0)
    report = await world.app.consumer.consume_one(0)
    assert report is not None and report.status is JobStatus.DELIVERED
    assert world.accounts.rows[3].spent == 2


async def test_a_dead_workers_job_is_swept_once_its_lease_runs_out_not_after_the_stale_delay(
    world: World,
) -> None:
    world.files.files["a"] = FakeAudio(90.0, "recovered")
    await world.app.bus.handle(note("a", 90.0))
    message = await world.queue.receive(0)
    assert message is not None
    job = world.jobs.rows["a"]
    job.start(world.clock.now(), 60)  # a worker claimed it with the default lease, then died
    world.jobs.rows["a"] = job
    await world.queue.acknowledge(message)
    world.clock.advance(59)
    outcome = await world.app.bus.handle(SweepStuckJobs(older_than_seconds=1800))
    assert outcome.requeued == 0, "its lease is still live"
    world.clock.advance(2)
    outcome = await world.app.bus.handle(SweepStuckJobs(older_than_seconds=1800))
    assert outcome.requeued == 1, "a lease that ran out is a dead worker: no stale delay"
    report = await world.app.consumer.consume_one(0)
    assert report is not None and report.status is JobStatus.DELIVERED


async def test_a_job_stuck_at_acceptance_is_failed_and_released(world: World) -> None:
    world.files.files["a"] = FakeAudio(30.0)
    now = world.clock.now()
    source = AudioSource(MediaKind.VOICE, "a", "a", 30.0)
    stuck = VoiceJob("a", 3, 3, source, 30.0, 0, UserStyle(), now, now)
    await world.jobs.add(stuck)
    world.clock.advance(3600)
    outcome = await world.app.bus.handle(SweepStuckJobs(older_than_seconds=1800))
    assert outcome.failed == 1 and world.jobs.rows["a"].status is JobStatus.FAILED


async def test_the_owner_is_alerted_for_system_failures_at_a_bounded_rate() -> None:
    world = World.build(owner_alerts=RateLimit(2, 600.0))
    for index in range(4):
        name = f"f{index}"
        world.files.files[name] = FakeAudio(20.0)
        world.recognizer.failures.append(RecognitionFailed("401", transient=False))
        await world.app.bus.handle(note(name, 20.0))
    world.files.files["bad"] = FakeAudio(20.0, unreadable=True)
    await world.app.bus.handle(note("bad", 20.0))
    assert len(world.alerts.sent) == 2, "rate limited"
    world.clock.advance(601)
    world.files.files["late"] = FakeAudio(20.0)
    world.recognizer.failures.append(RecognitionFailed("401", transient=False))
    await world.app.bus.handle(note("late", 20.0))
    assert len(world.alerts.sent) == 3
    assert "(+2 more since the last alert)" in world.alerts.sent[-1]
    assert not any("bad" in alert for alert in world.alerts.sent), "user-caused: no alert"
