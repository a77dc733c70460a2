"""Actions on a delivered transcript (``RunTranscriptAction``): made from what is stored,
charged once by the action policy, answered from the store the second time, refused to
anyone but the transcript's owner, released when no model answers, and offline only the
summary, made by sentence scoring."""

from __future__ import annotations

import pytest

from application.bootstrap import Tuning, bootstrap
from application.commands import AcceptVoiceNote, GrantMinutes, RunTranscriptAction
from application.errors import StorageError
from application.handlers.transcript_actions import ActionStatus
from domain.extractive_summary import sentences
from domain.jobs import AudioSource, JobStatus, MediaKind
from domain.policies import TranscriptionPolicy
from domain.transcript_actions import (
    EXTRACTIVE,
    ActionRequest,
    ActionResult,
    TranscriptAction,
    action_handle,
)
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio, InMemoryActionResults
from tests.media_clips import long_speech

OWNER = 5
SUMMARY = ActionRequest(TranscriptAction.SUMMARY)


async def delivered(world: World, seconds: float = 30.0) -> str:
    await world.app.bus.handle(GrantMinutes(OWNER, 200))
    world.files.files["file"] = FakeAudio(seconds, long_speech(12))
    source = AudioSource(MediaKind.VOICE, "file", "unique", seconds)
    outcome = await world.app.bus.handle(AcceptVoiceNote("note", OWNER, OWNER, source))
    assert outcome.job_id is not None
    if world.jobs.rows[outcome.job_id].status is not JobStatus.DELIVERED:
        await world.app.consumer.consume_one(0)
    assert world.jobs.rows[outcome.job_id].status is JobStatus.DELIVERED
    return outcome.job_id


def press(job_id: str, request: ActionRequest = SUMMARY, user: int = OWNER) -> RunTranscriptAction:
    return RunTranscriptAction(action_handle(job_id), user, request)


async def test_a_summary_is_made_from_the_stored_text_and_charged_once(world: World) -> None:
    job_id = await delivered(world)
    recognized, spent = world.recognizer.calls, world.accounts.rows[OWNER].spent

    first = await world.app.bus.handle(press(job_id))

    assert first.status is ActionStatus.DONE and first.minutes == 1
    assert first.result is not None and world.jobs.rows[job_id].transcript in first.result.text
    assert world.recognizer.calls == recognized, "not recognized again"
    assert world.accounts.rows[OWNER].spent == spent + 1
    assert world.accounts.rows[OWNER].reserved == 0

    second = await world.app.bus.handle(press(job_id))

    assert second.status is ActionStatus.CACHED and second.minutes == 0
    assert second.result == first.result
    assert world.accounts.rows[OWNER].spent == spent + 1, "the second press is free"


async def test_each_action_is_its_own_result_and_a_translation_per_language(
    world: World,
) -> None:
    job_id = await delivered(world)
    requests = [
        ActionRequest(TranscriptAction.ACTION_ITEMS),
        ActionRequest(TranscriptAction.TRANSLATE, "ru"),
        ActionRequest(TranscriptAction.TRANSLATE, "de"),
    ]
    for request in requests:
        outcome = await world.app.bus.handle(press(job_id, request))
        assert outcome.status is ActionStatus.DONE
    assert {key for _, key in world.action_results.rows} == {
        "action_items",
        "translate:ru",
        "translate:de",
    }
    assert "Russian" in world.llm.written[-2] and "German" in world.llm.written[-1]


async def test_a_long_recording_costs_a_minute_per_started_half_hour(world: World) -> None:
    job_id = await delivered(world, seconds=3 * 1800 + 1)  # four started half hours
    outcome = await world.app.bus.handle(press(job_id))
    assert outcome.minutes == 4


async def test_someone_elses_press_is_refused_and_costs_nothing(world: World) -> None:
    job_id = await delivered(world)
    calls = world.llm.calls

    outcome = await world.app.bus.handle(press(job_id, user=OWNER + 1))

    assert outcome.status is ActionStatus.UNAVAILABLE and outcome.result is None
    assert world.llm.calls == calls and not world.action_results.rows
    assert OWNER + 1 not in world.accounts.rows or world.accounts.rows[OWNER + 1].spent == 0


async def test_no_model_answering_releases_the_minutes(world: World) -> None:
    job_id = await delivered(world)
    world.llm.fail = True
    before = world.accounts.rows[OWNER].balance

    outcome = await world.app.bus.handle(press(job_id))

    assert outcome.status is ActionStatus.FAILED
    account = world.accounts.rows[OWNER]
    assert account.balance == before and account.reserved == 0
    assert not world.action_results.rows


async def test_not_enough_minutes_is_said_with_the_price(world: World) -> None:
    job_id = await delivered(world)
    world.accounts.rows[OWNER].balance = 0
    outcome = await world.app.bus.handle(press(job_id))
    assert outcome.status is ActionStatus.NO_MINUTES and outcome.price == 1


async def test_a_store_failure_releases_the_minutes_and_raises(world: World) -> None:
    job_id = await delivered(world)

    async def broken(result: ActionResult) -> bool:
        raise StorageError("down", transient=True)

    world.action_results.add = broken  # type: ignore[method-assign]
    before = world.accounts.rows[OWNER].balance
    with pytest.raises(StorageError):
        await world.app.bus.handle(press(job_id))
    assert world.accounts.rows[OWNER].balance == before
    assert world.accounts.rows[OWNER].reserved == 0


async def test_a_result_stored_but_not_yet_charged_is_charged_by_the_next_press(
    world: World,
) -> None:
    """The process died between storing the result and committing its minutes."""
    job_id = await delivered(world)
    first = await world.app.bus.handle(press(job_id))
    assert first.result is not None
    account = world.accounts.rows[OWNER]
    spent = account.spent
    account.spent -= 1
    account.reservations[f"{job_id}#summary"] = 1  # as if the commit never happened

    again = await world.app.bus.handle(press(job_id))

    assert again.status is ActionStatus.DONE and again.minutes == 1
    assert world.accounts.rows[OWNER].spent == spent and world.accounts.rows[OWNER].reserved == 0


async def test_offline_only_the_summary_works_and_is_extractive() -> None:
    world = World.build()
    # The same world without a language model: bootstrapped again with no writers.
    world.app = bootstrap(
        world.ports(action_writers=[], action_results=InMemoryActionResults()),
        Tuning(policy=TranscriptionPolicy(format_word_threshold=5)),
    )
    job_id = await delivered(world)

    items = await world.app.bus.handle(press(job_id, ActionRequest(TranscriptAction.ACTION_ITEMS)))
    summary = await world.app.bus.handle(press(job_id))

    assert items.status is ActionStatus.NO_MODEL and items.minutes == 0
    assert summary.status is ActionStatus.DONE and summary.result is not None
    assert summary.result.provider == EXTRACTIVE and summary.result.extractive
    said = sentences(world.jobs.rows[job_id].transcript or "")
    kept = sentences(summary.result.text)
    assert kept and set(kept) <= set(said) and len(kept) < len(said), "the telling sentences"
