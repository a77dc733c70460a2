"""The owner is alerted only for failures the user did not cause, and the owner's reports
keep the user's refusals (no minutes, a bad file, the bot blocked, a flush) apart from the
failures to look into (#13)."""

from __future__ import annotations

from application.bootstrap import Tuning, bootstrap
from application.commands import AcceptVoiceNote, FlushStuckJobs
from application.errors import DeliveryFailed, RecognitionFailed
from domain.jobs import AudioSource, JobStatus, MediaKind, VoiceJob
from domain.policies import TranscriptionPolicy
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio, RecordingMessenger

USER = 3


def note(name: str, seconds: float) -> AcceptVoiceNote:
    return AcceptVoiceNote(name, USER, USER, AudioSource(MediaKind.VOICE, name, name, seconds))


class BlockedChat(RecordingMessenger):
    """The user blocked the bot: Telegram answers every message with 403."""

    async def deliver(self, job: VoiceJob, text: str) -> None:
        raise DeliveryFailed("sendMessage: the user blocked the bot", transient=False)


async def test_no_minutes_is_a_refusal_not_an_alert(world: World) -> None:
    world.files.files["long"] = FakeAudio(3600.0)  # 60 minutes, the trial has far fewer

    await world.app.bus.handle(note("long", 3600.0))

    job = world.jobs.rows["long"]
    assert job.status is JobStatus.FAILED and job.refused
    assert world.alerts.sent == []
    stats = await world.app.reports.stats()
    assert (stats.failures_week, stats.refusals_week) == (0, 1)


async def test_a_bad_file_is_a_refusal_not_an_alert(world: World) -> None:
    world.files.files["bad"] = FakeAudio(20.0, unreadable=True)

    await world.app.bus.handle(note("bad", 20.0))

    assert world.jobs.rows["bad"].refused
    assert world.alerts.sent == []


async def test_a_user_who_blocked_the_bot_is_no_alert() -> None:
    world = World.build()
    blocked = BlockedChat()
    app = bootstrap(
        world.ports(messenger=blocked), Tuning(policy=TranscriptionPolicy(format_word_threshold=5))
    )
    world.files.files["a"] = FakeAudio(20.0)

    await app.bus.handle(note("a", 20.0))

    job = world.jobs.rows["a"]
    assert job.status is JobStatus.FAILED and job.refused, job
    assert world.alerts.sent == []
    assert world.accounts.rows[USER].spent == 0, "nothing charged for a text nobody got"


async def test_the_owners_flush_is_no_alert(world: World) -> None:
    world.files.files["a"] = FakeAudio(90.0)
    await world.app.bus.handle(note("a", 90.0))  # queued, never taken by a worker
    world.clock.advance(3600)

    outcome = await world.app.bus.handle(FlushStuckJobs(older_than_seconds=1800))

    assert outcome.jobs == 1 and world.jobs.rows["a"].refused
    assert world.alerts.sent == []


async def test_a_system_failure_still_alerts_and_is_listed_apart_from_refusals(
    world: World,
) -> None:
    world.files.files["broken"] = FakeAudio(20.0)
    world.recognizer.failures.append(RecognitionFailed("401", transient=False))
    await world.app.bus.handle(note("broken", 20.0))
    world.files.files["bad"] = FakeAudio(20.0, unreadable=True)
    await world.app.bus.handle(note("bad", 20.0))

    assert len(world.alerts.sent) == 1 and "broken" in world.alerts.sent[0]
    stats = await world.app.reports.stats()
    assert (stats.failures_week, stats.refusals_week) == (1, 1)
    troubles = await world.app.reports.troubled_jobs(1800)
    assert [j.job_id for j in troubles.jobs] == ["broken"]
    assert troubles.refusals_week == 1


async def test_a_short_file_claiming_hours_is_measured_and_transcribed(world: World) -> None:
    """The claimed 20,000 s is the sender's word: the 30 s measured decide (#13)."""
    world.files.files["liar"] = FakeAudio(30.0, "only thirty seconds")

    await world.app.bus.handle(note("liar", 20_000.0))

    job = world.jobs.rows["liar"]
    assert job.status is JobStatus.DELIVERED, job
    assert job.duration_seconds == 30.0 and world.accounts.rows[USER].spent == 1


async def test_a_file_measured_too_long_is_refused(world: World) -> None:
    world.files.files["long"] = FakeAudio(5 * 3600.0)

    await world.app.bus.handle(note("long", 5 * 3600.0))

    assert "long" not in world.jobs.rows, "refused before a job was stored"
    assert world.accounts.rows.get(USER) is None or world.accounts.rows[USER].spent == 0
