"""The worker as a real process: killed with SIGKILL mid-recognition, it loses nothing and
doubles nothing; stopped with SIGTERM, it finishes the job in hand and exits 0."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from application.commands import AcceptVoiceNote
from application.reports import Acceptance
from domain.jobs import AudioSource, JobStatus, MediaKind
from entrypoints.composition.container import Channel, build_container
from entrypoints.composition.settings import load_settings
from tests.fakes.dashscope_server import FakeDashScope
from tests.fakes.telegram import TelegramFake
from tests.media_clips import SAMPLES

USER = 606


@pytest.fixture
def dashscope() -> Iterator[FakeDashScope]:
    with FakeDashScope(latency=3.0, transcript=lambda request: "spoken words once") as fake:
        yield fake


@pytest.fixture
def env(tmp_path: Path, telegram_fake: TelegramFake, dashscope: FakeDashScope) -> dict[str, str]:
    return {
        "VOICESCRIBE_DATA_DIR": str(tmp_path / "var"),
        "TELEGRAM_BOT_TOKEN": telegram_fake.token,
        "TELEGRAM_API_BASE_URL": telegram_fake.api_base_url,
        "WHISPER_BACKEND": "qwen-asr",
        "DASHSCOPE_API_KEY": dashscope.api_key,
        "DASHSCOPE_BASE_URL": dashscope.base_url,
        "QUEUE_VISIBILITY_SECONDS": "10",
        "JOB_LEASE_SECONDS": "10",
        "WORKER_GRACE_SECONDS": "20",
    }


def start_worker(env: dict[str, str]) -> subprocess.Popen[str]:
    keep = {k: v for k, v in os.environ.items() if not k.endswith(("_BACKEND", "_API_KEY"))}
    return subprocess.Popen(
        [sys.executable, "-m", "entrypoints.cli", "worker", "--concurrency", "1"],
        env={**keep, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def queue_a_voice_note(env: dict[str, str], fake: TelegramFake) -> tuple[object, str]:
    container = build_container(load_settings(env), Channel.TELEGRAM)
    file_id = fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    # Telegram says 90 s (so it is queued); the audio is 9.6 s: it must cost 1 minute.
    source = AudioSource(MediaKind.VOICE, file_id, f"u-{file_id}", 90.0)
    outcome = await container.use_cases().bus.handle(
        AcceptVoiceNote("tg:606:1", USER, USER, source)
    )
    assert outcome.acceptance is Acceptance.QUEUED
    return container, outcome.job_id or ""


def answers(fake: TelegramFake) -> list[str]:
    return [m.plain_text for m in fake.sent_messages(USER) if m.plain_text == "spoken words once"]


async def wait_until(predicate, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_worker_killed_mid_recognition_loses_and_doubles_nothing(
    env: dict[str, str], telegram_fake: TelegramFake, dashscope: FakeDashScope
) -> None:
    container, job_id = await queue_a_voice_note(env, telegram_fake)
    first = start_worker(env)
    try:
        await wait_until(lambda: dashscope.requests, 60)  # recognition under way
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = start_worker(env)
        try:
            await wait_until(lambda: answers(telegram_fake), 90)
            await asyncio.sleep(1.0)  # room for a duplicate to show up, if there were one
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(40) == 0, second.stderr.read() if second.stderr else ""
    finally:
        if first.poll() is None:
            first.kill()
    assert answers(telegram_fake) == ["spoken words once"], "one answer"
    job = await container.jobs().get(job_id)
    account = await container.accounts().get(USER)
    assert job is not None and job.status is JobStatus.DELIVERED and job.attempts == 2
    assert account is not None and (account.spent, account.reserved, account.balance) == (1, 0, 14)
    await container.closing().close_all()


async def test_sigterm_finishes_the_job_in_hand_then_exits_0(
    env: dict[str, str], telegram_fake: TelegramFake, dashscope: FakeDashScope
) -> None:
    container, job_id = await queue_a_voice_note(env, telegram_fake)
    worker = start_worker(env)
    try:
        await wait_until(lambda: dashscope.requests, 60)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(40) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert answers(telegram_fake) == ["spoken words once"]
    job = await container.jobs().get(job_id)
    assert job is not None and job.status is JobStatus.DELIVERED and job.attempts == 1
    await container.closing().close_all()
