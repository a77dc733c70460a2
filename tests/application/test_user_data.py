"""The user's data (#17): ``/forget`` erases transcripts, cached results and settings but
never minutes or payments; the retention sweep erases transcripts past their days, run
by the one sweep every process runs (``queue_consumer.sweep_once``)."""

from __future__ import annotations

from application.commands import (
    AcceptVoiceNote,
    ForgetUserData,
    Setting,
    SweepExpiredTranscripts,
    ToggleSetting,
)
from application.handlers.forget import Forgotten
from application.queue_consumer import sweep_once
from application.reports import Acceptance
from domain.jobs import AudioSource, JobStatus, MediaKind, UserStyle
from domain.retention import DAY_SECONDS
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio

USER = 5
OTHER = 6


def send(request: str, user: int = USER, file: str = "file") -> AcceptVoiceNote:
    source = AudioSource(MediaKind.VOICE, file, f"unique-{file}", 30.0)
    return AcceptVoiceNote(request, user, user, source, UserStyle())


async def test_forget_erases_transcripts_failures_and_settings_but_keeps_minutes(
    world: World,
) -> None:
    world.files.files["file"] = FakeAudio(30.0, "my words")
    world.files.files["silence"] = FakeAudio(30.0, "  ")
    world.files.files["other"] = FakeAudio(30.0, "their words")
    await world.app.bus.handle(send("a"))
    await world.app.bus.handle(send("b", file="silence"))  # no speech: a record, no text
    await world.app.bus.handle(send("c", user=OTHER, file="other"))
    await world.app.bus.handle(ToggleSetting(USER, Setting.CODE))
    account_before = world.accounts.rows[USER]

    erased = await world.app.bus.handle(ForgetUserData(USER))

    assert erased == Forgotten(transcripts=1, records=2, settings=True, in_progress=0)
    assert await world.jobs.list_by_user(USER, 10) == []
    assert USER not in world.settings.rows
    assert await world.app.preferences.of(USER) == UserStyle(), "defaults again"
    assert world.accounts.rows[USER] == account_before, "minutes untouched"
    assert [j.job_id for j in await world.jobs.list_by_user(OTHER, 10)] == ["c"]
    assert (await world.app.reports.balance(USER)).recent_jobs == []

    again = await world.app.bus.handle(ForgetUserData(USER))
    assert again == Forgotten(transcripts=0, records=0, settings=False, in_progress=0)


async def test_after_forget_the_same_file_is_recognized_and_charged_again(world: World) -> None:
    world.files.files["file"] = FakeAudio(30.0, "my words")
    await world.app.bus.handle(send("a"))
    await world.app.bus.handle(ForgetUserData(USER))

    outcome = await world.app.bus.handle(send("b"))

    assert outcome.acceptance is Acceptance.PROCESSED, "the cache misses"
    assert world.recognizer.calls == 2
    assert world.accounts.rows[USER].spent == 2


async def test_forget_leaves_a_job_at_work_and_one_whose_minutes_are_not_settled(
    world: World,
) -> None:
    world.files.files["file"] = FakeAudio(30.0, "my words")
    await world.app.bus.handle(send("working"))
    await world.app.bus.handle(send("done"))
    world.jobs.rows["working"].status = JobStatus.PROCESSING  # a worker is on it
    done = world.jobs.rows["done"]
    account = world.accounts.rows[USER]
    account.reservations[done.reservation_id] = 1  # delivered, its commit not yet saved

    erased = await world.app.bus.handle(ForgetUserData(USER))

    assert (erased.records, erased.in_progress) == (0, 2)
    assert set(world.jobs.rows) == {"working", "done"}


async def test_retention_erases_jobs_past_their_days_and_the_cache_then_misses(
    world: World,
) -> None:
    world.files.files["file"] = FakeAudio(30.0, "old words")
    world.files.files["new"] = FakeAudio(30.0, "new words")
    await world.app.bus.handle(send("old"))
    world.clock.advance(29 * DAY_SECONDS)
    await world.app.bus.handle(send("recent", file="new"))
    world.clock.advance(1.5 * DAY_SECONDS)  # "old" is 30.5 days old, "recent" 1.5

    await sweep_once(world.app.bus, 300.0)

    assert set(world.jobs.rows) == {"recent"}
    outcome = await world.app.bus.handle(send("again"))
    assert outcome.acceptance is Acceptance.PROCESSED, "no stored transcript to reuse"
    assert world.recognizer.calls == 3


async def test_retention_looks_at_most_hourly_in_a_process(world: World) -> None:
    world.files.files["file"] = FakeAudio(30.0, "words")
    await world.app.bus.handle(send("a"))
    world.clock.advance(31 * DAY_SECONDS)
    assert await world.app.bus.handle(SweepExpiredTranscripts()) == 1
    world.files.files["other"] = FakeAudio(30.0, "more words")
    await world.app.bus.handle(send("b", file="other"))
    world.jobs.rows["b"].updated_at -= 40 * DAY_SECONDS  # past its days at once

    world.clock.advance(600)
    assert await world.app.bus.handle(SweepExpiredTranscripts()) == 0, "looked 10 min ago"
    world.clock.advance(3600)
    assert await world.app.bus.handle(SweepExpiredTranscripts()) == 1


async def test_zero_days_keeps_transcripts_forever() -> None:
    world = World.build(transcript_retention_days=0)
    world.files.files["file"] = FakeAudio(30.0, "words")
    await world.app.bus.handle(send("a"))
    world.clock.advance(10_000 * DAY_SECONDS)
    await sweep_once(world.app.bus, 300.0)
    assert world.jobs.rows["a"].status is JobStatus.DELIVERED


async def test_a_failing_stuck_job_sweep_does_not_stop_the_retention_sweep(world: World) -> None:
    world.files.files["file"] = FakeAudio(30.0, "words")
    await world.app.bus.handle(send("a"))
    world.clock.advance(31 * DAY_SECONDS)

    async def broken(older_than_seconds: float) -> None:
        raise RuntimeError("the stuck-job listing broke")

    world.jobs.list_unfinished = broken  # type: ignore[assignment,method-assign]
    assert await sweep_once(world.app.bus, 300.0) is None
    assert "a" not in world.jobs.rows
