"""Accepting and processing voice notes through the bus, on in-memory ports."""

from __future__ import annotations

import pytest

from application.commands import AcceptVoiceNote
from application.errors import FileUnavailable, RecognitionFailed
from application.notices import NoticeReason
from application.progress import Stage
from application.reports import Acceptance
from domain.jobs import AudioSource, JobStatus, MediaKind, UserStyle
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio

USER = 42


def voice(
    file_id: str, duration: float | None, request: str = "", **style: object
) -> AcceptVoiceNote:
    return AcceptVoiceNote(
        request_id=request or f"tg:{file_id}",
        user_id=USER,
        chat_id=USER,
        source=AudioSource(MediaKind.VOICE, file_id, f"u-{file_id}", duration),
        style=UserStyle(**style),  # type: ignore[arg-type]
    )


def balance(world: World) -> int:
    return world.accounts.rows[USER].balance


async def test_short_note_is_transcribed_inline_and_charged_once(world: World) -> None:
    world.files.files["a"] = FakeAudio(12.0, "short note")

    outcome = await world.app.bus.handle(voice("a", 12.0))

    assert outcome.acceptance is Acceptance.PROCESSED
    assert world.messenger.delivered == [("tg:a", "[local] short note")]
    account = world.accounts.rows[USER]
    assert (account.balance, account.spent, account.reserved) == (14, 1, 0)
    assert world.jobs.rows["tg:a"].status is JobStatus.DELIVERED
    assert world.llm.calls == 0, "two words are under the threshold: no LLM call"
    stages = [p.stage for _, p in world.messenger.progress]
    assert stages[:2] == [Stage.CONVERTING, Stage.RECOGNIZING]


async def test_long_transcript_goes_through_the_llm(world: World) -> None:
    world.files.files["a"] = FakeAudio(30.0, "one two three four five six")
    await world.app.bus.handle(voice("a", 30.0))
    assert world.messenger.delivered == [("tg:a", "[llm] one two three four five six")]


async def test_llm_that_drops_text_falls_back_to_the_local_formatter(world: World) -> None:
    world.llm.shrink = True
    world.files.files["a"] = FakeAudio(30.0, "one two three four five six seven")
    await world.app.bus.handle(voice("a", 30.0))
    assert world.messenger.delivered[0][1].startswith("[local] ")


async def test_same_update_twice_makes_one_job_and_one_charge(world: World) -> None:
    world.files.files["a"] = FakeAudio(70.0)
    first = await world.app.bus.handle(voice("a", 70.0))
    again = await world.app.bus.handle(voice("a", 70.0))
    assert (first.acceptance, again.acceptance) == (Acceptance.QUEUED, Acceptance.DUPLICATE)
    assert len(world.queue.messages) == 1
    assert world.accounts.rows[USER].reserved == 2


async def test_long_audio_is_queued_then_processed_by_the_consumer(world: World) -> None:
    world.files.files["a"] = FakeAudio(61.0, "queued words")
    outcome = await world.app.bus.handle(voice("a", 61.0))
    assert outcome.acceptance is Acceptance.QUEUED
    assert world.jobs.rows["tg:a"].status is JobStatus.QUEUED
    assert world.messenger.delivered == []

    report = await world.app.consumer.consume_one(wait_seconds=0)

    assert report is not None and report.status is JobStatus.DELIVERED
    assert world.queue.messages == [], "acknowledged once settled"
    assert world.accounts.rows[USER].spent == 2


async def test_redelivered_message_of_a_finished_job_is_a_no_op(world: World) -> None:
    world.files.files["a"] = FakeAudio(61.0)
    await world.app.bus.handle(voice("a", 61.0))
    await world.app.consumer.consume_one(0)
    await world.queue.enqueue("tg:a")  # the queue delivers at least once

    report = await world.app.consumer.consume_one(0)

    assert report is not None and report.status is JobStatus.DELIVERED
    assert len(world.messenger.delivered) == 1
    assert world.accounts.rows[USER].spent == 2
    assert world.jobs.rows["tg:a"].attempts == 1


async def test_insufficient_minutes_refuses_and_keeps_the_balance(world: World) -> None:
    world.files.files["a"] = FakeAudio(16 * 60.0)
    outcome = await world.app.bus.handle(voice("a", 16 * 60.0))
    assert outcome.acceptance is Acceptance.REJECTED
    assert outcome.notice.reason is NoticeReason.INSUFFICIENT_MINUTES
    assert (outcome.notice.needed_minutes, outcome.notice.balance_minutes) == (16, 15)
    assert balance(world) == 15
    assert world.queue.messages == []


async def test_no_speech_releases_the_reservation_and_says_so(world: World) -> None:
    world.files.files["a"] = FakeAudio(20.0, "   ")
    outcome = await world.app.bus.handle(voice("a", 20.0))
    assert outcome.report.status is JobStatus.NO_SPEECH
    assert world.messenger.notices == [("tg:a", world.messenger.notices[0][1])]
    assert world.messenger.notices[0][1].reason is NoticeReason.NO_SPEECH
    assert (balance(world), world.accounts.rows[USER].spent) == (15, 0)


async def test_permanent_recognition_failure_fails_and_releases(world: World) -> None:
    world.files.files["a"] = FakeAudio(20.0)
    world.recognizer.failures.append(RecognitionFailed("bad key", transient=False))
    outcome = await world.app.bus.handle(voice("a", 20.0))
    assert outcome.report.status is JobStatus.FAILED
    assert world.messenger.notices[0][1].reason is NoticeReason.INTERNAL
    assert balance(world) == 15 and world.accounts.rows[USER].reserved == 0


async def test_transient_failure_of_a_queued_job_is_retried_by_redelivery(world: World) -> None:
    world.files.files["a"] = FakeAudio(90.0, "second time lucky")
    world.files.failures.append(FileUnavailable("download timed out", transient=True))
    await world.app.bus.handle(voice("a", 90.0))

    assert await world.app.consumer.consume_one(0) is None
    assert len(world.queue.messages) == 1, "not acknowledged: it must come back"
    world.clock.advance(121)
    report = await world.app.consumer.consume_one(0)

    assert report is not None and report.status is JobStatus.DELIVERED
    assert world.jobs.rows["tg:a"].attempts == 2
    assert world.accounts.rows[USER].spent == 2


async def test_transient_failures_past_the_attempt_limit_fail_the_job() -> None:
    world = World.build(max_attempts=2)
    world.files.files["a"] = FakeAudio(90.0)
    world.files.failures.extend(FileUnavailable("502", transient=True) for _ in range(5))
    await world.app.bus.handle(voice("a", 90.0))
    for _ in range(3):
        await world.app.consumer.consume_one(0)
        world.clock.advance(200)
    job = world.jobs.rows["tg:a"]
    assert job.status is JobStatus.FAILED and job.attempts == 2
    assert world.messenger.notices[-1][1].reason is NoticeReason.FILE_UNAVAILABLE
    assert (balance(world), world.accounts.rows[USER].reserved) == (15, 0)
    assert world.queue.messages == []


async def test_queue_outage_fails_the_job_without_charging(world: World) -> None:
    world.queue.fail_enqueue = True
    world.files.files["a"] = FakeAudio(120.0)
    outcome = await world.app.bus.handle(voice("a", 120.0))
    assert outcome.acceptance is Acceptance.REJECTED
    assert outcome.notice.reason is NoticeReason.SERVICE_BUSY
    assert world.jobs.rows["tg:a"].status is JobStatus.FAILED
    assert balance(world) == 15 and world.accounts.rows[USER].reserved == 0


async def test_unknown_duration_is_probed_and_unreadable_files_are_refused(world: World) -> None:
    world.files.files["good"] = FakeAudio(5.0, "probed")
    world.files.files["bad"] = FakeAudio(5.0, unreadable=True)
    good = await world.app.bus.handle(voice("good", None))
    bad = await world.app.bus.handle(voice("bad", None))
    assert good.report.duration_seconds == 5.0
    assert bad.acceptance is Acceptance.REJECTED
    assert bad.notice.reason is NoticeReason.UNREADABLE
    assert "tg:bad" not in world.jobs.rows


async def test_too_long_audio_is_refused_before_anything_is_stored() -> None:
    world = World.build()
    world.files.files["a"] = FakeAudio(5 * 3600.0)
    outcome = await world.app.bus.handle(voice("a", 5 * 3600.0))
    assert outcome.notice.reason is NoticeReason.TOO_LONG
    assert world.jobs.rows == {} and world.accounts.rows == {}


async def test_yo_policy_is_applied_to_the_delivered_text(world: World) -> None:
    world.files.files["a"] = FakeAudio(3.0, "ёлка")
    await world.app.bus.handle(voice("a", 3.0, use_yo=False))
    assert world.messenger.delivered[0][1] == "[local] елка"


@pytest.mark.parametrize("duration", [30.0, 59.0])
async def test_uncharged_jobs_touch_no_account(world: World, duration: float) -> None:
    world.files.files["a"] = FakeAudio(duration)
    command = voice("a", duration)
    from attrs import evolve

    await world.app.bus.handle(evolve(command, charge=False))
    assert world.accounts.rows == {}
    assert world.jobs.rows["tg:a"].reserved_minutes == 0


async def test_a_message_delivered_too_often_is_settled_as_failed(world: World) -> None:
    from application.commands import ProcessJob

    world.files.files["a"] = FakeAudio(90.0)
    await world.app.bus.handle(voice("a", 90.0))
    report = await world.app.bus.handle(ProcessJob("tg:a", delivery_count=9))
    assert report.status is JobStatus.FAILED
    assert world.recognizer.calls == 0
    assert (balance(world), world.accounts.rows[USER].reserved) == (15, 0)


async def test_a_queued_job_reports_its_place_in_the_queue(world: World) -> None:
    for name in ("a", "b"):
        world.files.files[name] = FakeAudio(90.0)
    await world.app.bus.handle(voice("a", 90.0))
    outcome = await world.app.bus.handle(voice("b", 90.0))
    assert outcome.queue_position == 2
