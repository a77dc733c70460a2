"""Stop and the draft end to end (#17): the bot polling the Bot API fake, recognizing
through the real DashScope adapter against the DashScope fake.

The fake is gated, never slept on: each ASR request waits in the fake until the test lets
one answer go (``Gate.let_one_answer``), and the answers are numbered in the order they
go. A 12-minute recording is five chunks; with ``ASR_CONCURRENCY=2`` two are in flight.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from domain.jobs import JobStatus
from tests.e2e.conftest import RunningBot
from tests.fakes.dashscope_server import FakeDashScope, RecordedRequest
from tests.fakes.telegram import TelegramFake
from tests.media_clips import long_voice_note

USER = 7171
STRANGER = 7272
TWELVE_MINUTES = 720
WAIT = 120.0
SENTENCES = (
    "First we talked about the garden and the roses by the fence.",
    "Then the weather turned and everybody went inside for tea.",
    "Later that evening the children played cards near the fire.",
    "In the morning a letter arrived from the old harbour office.",
    "Finally the boat was repaired and sailed out before noon.",
    "Nobody expected the storm that came over the hills at dusk.",
)


class Gate:
    """Holds every ASR request in the fake until the test lets one answer go."""

    def __init__(self) -> None:
        self._allowed = threading.Semaphore(0)
        self._numbers = itertools.count()
        self._closed = threading.Event()
        self.answered: list[str] = []

    def latency(self, request: RecordedRequest) -> float:
        if request.kind == "asr":
            while not self._closed.is_set() and not self._allowed.acquire(timeout=0.05):
                pass
        return 0.0

    def transcript(self, request: RecordedRequest) -> str:
        text = SENTENCES[next(self._numbers) % len(SENTENCES)]
        self.answered.append(text)
        return text

    def let_one_answer(self) -> None:
        self._allowed.release()

    def close(self) -> None:
        self._closed.set()


@pytest.fixture
def gate() -> Iterator[Gate]:
    gate = Gate()
    yield gate
    gate.close()


@pytest.fixture
def dashscope(gate: Gate) -> Iterator[FakeDashScope]:
    with FakeDashScope(latency=gate.latency, transcript=gate.transcript) as fake:
        yield fake


@pytest.fixture
async def bot(start_bot: Any, dashscope: FakeDashScope) -> RunningBot:
    running: RunningBot = start_bot(
        WHISPER_BACKEND="qwen-asr",
        DASHSCOPE_API_KEY=dashscope.api_key,
        DASHSCOPE_BASE_URL=dashscope.base_url,
        ASR_CONCURRENCY="2",
        WORKER_CONCURRENCY="1",
        TRIAL_MINUTES="60",
    )
    return running


def asr_requests(dashscope: FakeDashScope) -> list[RecordedRequest]:
    return [r for r in dashscope.requests if r.kind == "asr"]


def stop_data(message: Any) -> str | None:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    data = [b.get("callback_data", "") for row in rows for b in row]
    return next((d for d in data if d.startswith("stop:")), None)


def with_stop(fake: TelegramFake) -> list[Any]:
    return [m for m in fake.sent_messages(USER) if not m.deleted and stop_data(m)]


def draft_of(text: str) -> str:
    return text.partition("Draft so far:\n")[2]


async def account_of(bot: RunningBot) -> Any:
    return await bot.container.accounts().get(USER)


async def account_when(bot: RunningBot, reserved: int) -> Any:
    """The user's account once ``reserved`` minutes are reserved (minutes are settled
    just after a job's status is saved, so a test waits for them)."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        account = await account_of(bot)
        if account is not None and account.reserved == reserved:
            return account
        assert asyncio.get_running_loop().time() < deadline, f"never {reserved}: {account}"
        await asyncio.sleep(0.05)


async def settled_account(bot: RunningBot) -> Any:
    return await account_when(bot, 0)


async def job_in(bot: RunningBot, status: JobStatus) -> Any:
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        jobs = await bot.container.jobs().list_by_user(USER, 10)
        found = [j for j in jobs if j.status is status]
        if found:
            return found[0]
        assert asyncio.get_running_loop().time() < deadline, [j.status for j in jobs]
        await asyncio.sleep(0.05)


async def test_stop_mid_recognition_delivers_the_part_recognized_and_charges_only_it(
    bot: RunningBot, dashscope: FakeDashScope, gate: Gate
) -> None:
    fake = bot.fake
    fake.push_voice(USER, USER, fake.register_file(long_voice_note(TWELVE_MINUTES)),
                    duration=TWELVE_MINUTES)  # fmt: skip
    await fake.wait_for_async(lambda: len(asr_requests(dashscope)) == 2, WAIT, "2 in flight")

    gate.let_one_answer()
    first = SENTENCES[0]
    [status] = await fake.wait_for_async(
        lambda: [m for m in with_stop(fake) if "(1/5)" in m.plain_text], WAIT, "1 of 5 done"
    )
    assert "About" in status.plain_text and "min left" in status.plain_text, "an ETA"

    # Someone else's Stop is refused, and changes nothing.
    fake.push_callback_query(STRANGER, USER, stop_data(status) or "", message_id=status.message_id)
    await fake.wait_for_async(fake.callback_answers, WAIT, "the stranger's answer")
    [refusal] = fake.callback_answers()
    assert refusal.show_alert and "Only the person who sent" in (refusal.text or "")

    sent_before_stop = len(asr_requests(dashscope))
    fake.push_callback_query(USER, USER, stop_data(status) or "", message_id=status.message_id)
    job = await job_in(bot, JobStatus.CANCELLED)

    delivered = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if m.plain_text == first], WAIT, "the part"
    )
    assert delivered, "the part recognized is delivered"
    account = await settled_account(bot)
    assert job.reserved_minutes == account.spent, "charged what the job says, once"
    assert 1 <= account.spent <= 3, "ceil(one chunk of at most 150 s / 60), not 12"
    assert account.reserved == 0
    assert len(asr_requests(dashscope)) == sent_before_stop <= 3, "no chunk sent after Stop"
    stopped = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if "Stopped. Charged" in m.plain_text],
        WAIT,
        "the stop notice",
    )
    assert f"Charged: {account.spent} min" in stopped[0].plain_text


async def test_the_draft_grows_in_order_and_stop_after_delivery_changes_nothing(
    bot: RunningBot, dashscope: FakeDashScope, gate: Gate
) -> None:
    fake = bot.fake
    fake.push_voice(USER, USER, fake.register_file(long_voice_note(TWELVE_MINUTES)),
                    duration=TWELVE_MINUTES)  # fmt: skip
    for done in range(1, 5):
        await fake.wait_for_async(
            lambda done=done: len(asr_requests(dashscope)) >= done + 1, WAIT, "the next chunk sent"
        )
        gate.let_one_answer()
        shown = f"({done}/5)"
        await fake.wait_for_async(
            lambda shown=shown: any(
                shown in t for m in fake.sent_messages(USER) for t in m.history
            ),
            WAIT,
            f"{shown} shown",
        )
    gate.let_one_answer()
    job = await job_in(bot, JobStatus.DELIVERED)
    statuses = [m for m in fake.sent_messages(USER) if any("Draft so far" in t for t in m.history)]
    assert statuses, "the draft was shown"
    drafts = [draft_of(t) for t in statuses[0].history if "Draft so far" in t]
    for before, after in itertools.pairwise(drafts):
        assert after.removesuffix("…").startswith(before.removesuffix("…")), "it only grows"
    transcript = job.transcript or ""
    assert all(transcript.startswith(d.removesuffix("…").strip()) for d in drafts), (
        "every draft is the start of the final text: in order"
    )

    # Stop after delivery: answered, nothing changes.
    spent = (await settled_account(bot)).spent
    assert spent == 12
    fake.push_callback_query(USER, USER, f"stop:{job.job_id}")
    await fake.wait_for_async(fake.callback_answers, WAIT, "the answer")
    [answer] = fake.callback_answers()
    assert "already done" in (answer.text or "")
    assert (await account_of(bot)).spent == spent
    assert (await bot.container.jobs().get(job.job_id)).status is JobStatus.DELIVERED


async def test_stop_on_a_queued_job_charges_nothing_and_it_never_starts(
    bot: RunningBot, dashscope: FakeDashScope, gate: Gate
) -> None:
    """One worker, busy with a first recording (held in the fake): the second waits in
    the queue, and is stopped there."""
    fake = bot.fake
    fake.push_voice(USER, USER, fake.register_file(long_voice_note(TWELVE_MINUTES)),
                    duration=TWELVE_MINUTES)  # fmt: skip
    await fake.wait_for_async(lambda: len(asr_requests(dashscope)) == 2, WAIT, "the first runs")
    fake.push_voice(USER, USER, fake.register_file(long_voice_note(TWELVE_MINUTES + 1)),
                    duration=TWELVE_MINUTES + 1)  # fmt: skip
    queued = await job_in(bot, JobStatus.QUEUED)
    await account_when(bot, 12 + 13)

    fake.push_callback_query(USER, USER, f"stop:{queued.job_id}")
    await fake.wait_for_async(fake.callback_answers, WAIT, "the answer")
    [answer] = fake.callback_answers()
    assert "nothing was charged" in (answer.text or "")
    stopped = await job_in(bot, JobStatus.CANCELLED)
    assert stopped.job_id == queued.job_id and stopped.transcript is None
    account = await account_when(bot, 12)
    assert account.spent == 0, "the queued job's 13 minutes back, nothing charged"

    for _ in range(5):  # the first recording goes on and is delivered
        gate.let_one_answer()
    await job_in(bot, JobStatus.DELIVERED)
    assert len(asr_requests(dashscope)) == 5, "the stopped job never reached the recognizer"
    account = await settled_account(bot)
    assert account.spent == 12
