"""A note over the user's rate limit is accepted and queued for later, not refused."""

from __future__ import annotations

import attrs

from application.commands import AcceptVoiceNote
from application.reports import Acceptance
from domain.jobs import JobStatus
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio
from tests.application.test_voice_notes import USER, voice

OTHER_USER = USER + 1


def deferred(note: AcceptVoiceNote, seconds: float) -> AcceptVoiceNote:
    return attrs.evolve(note, defer_seconds=seconds)


async def test_a_deferred_short_note_is_queued_with_its_minutes_reserved(world: World) -> None:
    world.files.files["a"] = FakeAudio(12.0, "later words")

    outcome = await world.app.bus.handle(deferred(voice("a", 12.0), 60.0))

    assert outcome.acceptance is Acceptance.QUEUED
    assert outcome.queue_position == 1
    assert world.jobs.rows["tg:a"].status is JobStatus.QUEUED
    assert world.messenger.delivered == [], "short, but not processed inline"
    assert world.accounts.rows[USER].reserved == 1
    assert await world.app.consumer.consume_one(wait_seconds=0) is None, "not before its time"

    world.clock.advance(60.0)
    report = await world.app.consumer.consume_one(wait_seconds=0)

    assert report is not None and report.status is JobStatus.DELIVERED
    assert world.messenger.delivered == [("tg:a", "[local] later words")]


async def test_another_users_note_sent_meanwhile_goes_first(world: World) -> None:
    world.files.files["a"] = FakeAudio(12.0, "burst tail")
    world.files.files["b"] = FakeAudio(70.0, "someone else")
    await world.app.bus.handle(deferred(voice("a", 12.0), 60.0))
    other = attrs.evolve(voice("b", 70.0), user_id=OTHER_USER, chat_id=OTHER_USER)
    await world.app.bus.handle(other)

    first = await world.app.consumer.consume_one(wait_seconds=0)
    world.clock.advance(60.0)
    second = await world.app.consumer.consume_one(wait_seconds=0)

    assert first is not None and second is not None
    assert (first.job_id, second.job_id) == ("tg:b", "tg:a")


async def test_an_undeferred_short_note_is_still_processed_at_once(world: World) -> None:
    world.files.files["a"] = FakeAudio(12.0, "now")
    outcome = await world.app.bus.handle(deferred(voice("a", 12.0), 0.0))
    assert outcome.acceptance is Acceptance.PROCESSED
