"""DelayedStatus: a quick note's status message is never sent, a late one is, and the
answer never overtakes a status on its way (a recording messenger behind it)."""

from __future__ import annotations

import asyncio
import datetime

import pytest
from telegram import Chat, Message

from application.notices import Notice, NoticeReason
from application.progress import Progress, Stage
from domain.jobs import AudioSource, MediaKind, UserStyle, VoiceJob
from infrastructure.telegram.delayed_status import DelayedStatus

CHAT = 777
STATUS_ID = 31


class StatusAware:
    """A messenger recording the status message id each call saw."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int | None]] = []

    async def report_progress(self, job: VoiceJob, progress: Progress) -> None:
        self.seen.append(("progress", job.status_message_id))

    async def deliver(self, job: VoiceJob, text: str) -> None:
        self.seen.append(("deliver", job.status_message_id))

    async def notify(self, job: VoiceJob, notice: Notice) -> None:
        self.seen.append((str(notice.reason), job.status_message_id))


class Statuses:
    """The ``show`` callable: counts the statuses sent; ``gate`` holds one on the wire."""

    def __init__(self) -> None:
        self.sent = 0
        self.on_the_wire = asyncio.Event()
        self.gate = asyncio.Event()
        self.gate.set()

    async def show(self) -> Message | None:
        self.on_the_wire.set()
        await self.gate.wait()
        self.sent += 1
        chat = Chat(CHAT, "private")
        return Message(STATUS_ID, datetime.datetime.now(datetime.UTC), chat)


def make_job() -> VoiceJob:
    source = AudioSource(MediaKind.VOICE, "f", "u", 5.0)
    return VoiceJob("job-1", CHAT, CHAT, source, 5.0, 1, UserStyle(), 0.0, 0.0)


def delayed(inner: StatusAware, delay: float) -> DelayedStatus:
    return DelayedStatus(inner, delay_seconds=delay, inline_up_to_seconds=60.0)


async def test_an_answer_within_the_delay_comes_without_any_status() -> None:
    inner, statuses, job = StatusAware(), Statuses(), make_job()
    messenger = delayed(inner, 3600.0)
    messenger.show_later(job.job_id, statuses.show)

    await messenger.report_progress(job, Progress(Stage.RECOGNIZING))
    await messenger.deliver(job, "text")

    assert await messenger.settle(job.job_id) is None
    assert statuses.sent == 0
    assert inner.seen == [("deliver", None)], "no progress shown before a status is"


async def test_a_late_answer_finds_the_status_and_progress_edits_it() -> None:
    inner, statuses, job = StatusAware(), Statuses(), make_job()
    messenger = delayed(inner, 0.01)
    messenger.show_later(job.job_id, statuses.show)
    await messenger.report_progress(job, Progress(Stage.CONVERTING))  # before: not shown

    async def status_shown() -> None:
        while job.status_message_id is None:  # noqa: ASYNC110 (set by the wrapper, no event)
            await asyncio.sleep(0.01)

    await asyncio.wait_for(status_shown(), 30)

    await messenger.report_progress(job, Progress(Stage.RECOGNIZING))
    await messenger.deliver(job, "text")

    assert inner.seen == [("progress", STATUS_ID), ("deliver", STATUS_ID)]
    assert job.status_message_id == STATUS_ID, "kept on the job, saved with it"


async def test_the_answer_waits_for_a_status_on_the_wire() -> None:
    inner, statuses, job = StatusAware(), Statuses(), make_job()
    statuses.gate.clear()
    messenger = delayed(inner, 0.01)
    messenger.show_later(job.job_id, statuses.show)
    await asyncio.wait_for(statuses.on_the_wire.wait(), 30)

    answer = asyncio.create_task(messenger.deliver(job, "text"))
    await asyncio.sleep(0.05)
    assert not answer.done(), "the answer must not overtake the status"
    statuses.gate.set()
    await asyncio.wait_for(answer, 30)

    assert inner.seen == [("deliver", STATUS_ID)], "the answer then deletes the status"


async def test_a_heads_up_leaves_the_status_waiting_a_refusal_cancels_it() -> None:
    inner, statuses, job = StatusAware(), Statuses(), make_job()
    messenger = delayed(inner, 3600.0)
    messenger.show_later(job.job_id, statuses.show)

    await messenger.notify(job, Notice(NoticeReason.LOW_BALANCE, balance_minutes=2))
    await messenger.notify(job, Notice(NoticeReason.NO_SPEECH))

    assert await messenger.settle(job.job_id) is None
    assert statuses.sent == 0
    assert inner.seen == [("low_balance", None), ("no_speech", None)]


@pytest.mark.parametrize(
    ("delay", "duration", "defer", "expected"),
    [
        (1.5, 5.0, 0.0, True),
        (1.5, 60.0, 0.0, True),  # the longest note processed inline
        (1.5, 61.0, 0.0, False),  # queued: its status shows at once, as before
        (1.5, None, 0.0, False),  # length unknown
        (1.5, 5.0, 2.0, False),  # held back by the rate limit: queued
        (0.0, 5.0, 0.0, False),  # STATUS_DELAY_SECONDS=0: always at once
    ],
)
def test_which_notes_may_wait_for_their_status(
    delay: float, duration: float | None, defer: float, expected: bool
) -> None:
    assert delayed(StatusAware(), delay).applies_to(duration, defer) is expected
