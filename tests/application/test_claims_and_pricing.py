"""Claims (leases), the measured duration over the sender's word, and stored transcripts."""

from __future__ import annotations

import pytest

from application.commands import AcceptVoiceNote, ProcessJob
from application.errors import DeliveryFailed
from application.notices import NoticeReason
from application.reports import RetryLater
from domain.jobs import AudioSource, JobStatus, MediaKind
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio

USER = 8


def lying(name: str, claimed: float) -> AcceptVoiceNote:
    return AcceptVoiceNote(name, USER, USER, AudioSource(MediaKind.VOICE, name, name, claimed))


async def test_a_duration_lie_is_charged_by_the_measured_duration(world: World) -> None:
    world.files.files["a"] = FakeAudio(150.0, "real length")  # says 1 s, is 2.5 min
    outcome = await world.app.bus.handle(lying("a", 1.0))
    assert outcome.report.status is JobStatus.DELIVERED
    account = world.accounts.rows[USER]
    assert (account.spent, account.balance) == (3, 12)
    assert world.jobs.rows["a"].duration_seconds == 150.0


async def test_a_duration_lie_beyond_the_balance_is_refused_and_costs_nothing(
    world: World,
) -> None:
    world.files.files["a"] = FakeAudio(20 * 60.0)
    outcome = await world.app.bus.handle(lying("a", 5.0))
    assert outcome.report.status is JobStatus.FAILED
    assert world.messenger.notices[-1][1].reason is NoticeReason.INSUFFICIENT_MINUTES
    assert world.recognizer.calls == 0
    account = world.accounts.rows[USER]
    assert (account.balance, account.reserved, account.spent) == (15, 0, 0)


async def test_audio_over_the_limit_is_refused_after_measuring() -> None:
    world = World.build()
    world.files.files["a"] = FakeAudio(5 * 3600.0)
    outcome = await world.app.bus.handle(lying("a", 3.0))
    assert world.messenger.notices[-1][1].reason is NoticeReason.TOO_LONG
    assert outcome.report.status is JobStatus.FAILED and world.recognizer.calls == 0


async def test_a_job_leased_by_a_live_worker_is_left_to_it(world: World) -> None:
    world.files.files["a"] = FakeAudio(90.0)
    await world.app.bus.handle(lying("a", 90.0))
    job = world.jobs.rows["a"]
    job.start(world.clock.now())  # another worker claimed it a moment ago
    world.jobs.rows["a"] = job
    with pytest.raises(RetryLater):
        await world.app.bus.handle(ProcessJob("a"))
    world.clock.advance(601)  # that worker died: its lease runs out
    report = await world.app.bus.handle(ProcessJob("a"))
    assert report.status is JobStatus.DELIVERED


async def test_a_stored_transcript_is_delivered_without_recognizing_again(world: World) -> None:
    world.files.files["a"] = FakeAudio(90.0, "said once")

    async def blocked(job, text):  # type: ignore[no-untyped-def]
        raise DeliveryFailed("network", transient=True)

    world.messenger.deliver = blocked  # type: ignore[method-assign]
    await world.app.bus.handle(lying("a", 90.0))
    assert await world.app.consumer.consume_one(0) is None  # left for redelivery
    assert world.jobs.rows["a"].transcript == "[local] said once"
    del world.messenger.deliver
    world.clock.advance(200)
    report = await world.app.consumer.consume_one(0)
    assert report is not None and report.status is JobStatus.DELIVERED
    assert world.recognizer.calls == 1, "recognized once, delivered on the second try"
    assert world.accounts.rows[USER].spent == 2
