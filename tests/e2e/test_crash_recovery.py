"""Killed processes and a locked or full disk, with the real ``voicescribe`` command.

Each test runs the CLI in subprocesses against the Bot API fake and the DashScope fake
(``WHISPER_BACKEND=qwen-asr``, a few seconds of latency so a kill lands while notes are in
recognition), then checks the books through a container on the same SQLite file: every
note answered once, charged once, nothing left reserved or unfinished.

Scaled down from the issue for runtime: a handful of notes per test instead of 12
three-minute jobs (each job takes seconds, through the fake's latency), one kill per test.
Leases and visibility stay at their defaults where the issue asks for them.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from application.commands import AcceptVoiceNote
from application.reports import Acceptance
from domain.jobs import AudioSource, JobStatus, MediaKind
from entrypoints.composition.container import Channel, build_container
from entrypoints.composition.settings import load_settings
from tests.fakes.dashscope_server import FakeDashScope
from tests.fakes.telegram import TelegramFake, WebhookConfig
from tests.media_clips import SAMPLES

TRANSCRIPT = "spoken words once"
TRIAL = 15
LATENCY = 2.0
TERMINAL = {JobStatus.DELIVERED, JobStatus.FAILED, JobStatus.NO_SPEECH}
RECOVERY_SECONDS = 120.0  # the issue: recovery within 2 minutes of the restart
SETTLE_SECONDS = 180.0


@pytest.fixture
def dashscope() -> Iterator[FakeDashScope]:
    with FakeDashScope(latency=LATENCY, transcript=lambda request: TRANSCRIPT) as fake:
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
        "TRIAL_MINUTES": str(TRIAL),
    }


class Processes:
    """The CLI processes a test starts; whatever is still running at the end is killed."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.started: list[subprocess.Popen[str]] = []

    def start(
        self, *args: str, preexec_fn: Callable[[], None] | None = None
    ) -> subprocess.Popen[str]:
        keep = {
            k: v
            for k, v in os.environ.items()
            if not k.endswith(("_BACKEND", "_API_KEY")) and k != "VOICESCRIBE_PROFILE"
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", *args],
            env={**keep, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=preexec_fn,  # noqa: PLW1509 (a resource limit, no threads yet)
        )
        self.started.append(process)
        return process

    def kill_hard(self, process: subprocess.Popen[str]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(30)

    def stop(self, process: subprocess.Popen[str], *, by_the_signal: bool = False) -> None:
        """SIGTERM: what is in hand is finished, then exit 0 (``by_the_signal``: uvicorn
        raises the signal again once it shut down, so the webhook ends by SIGTERM)."""
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        stderr = process.stderr.read() if process.stderr else ""
        if by_the_signal:
            assert code in (0, -signal.SIGTERM), stderr[-3000:]
            assert "Application shutdown complete" in stderr, stderr[-3000:]
        else:
            assert code == 0, stderr[-3000:]

    def end_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait(30)


@pytest.fixture
def processes(env: dict[str, str]) -> Iterator[Processes]:
    running = Processes(env)
    try:
        yield running
    finally:
        running.end_all()


def push_notes(fake: TelegramFake, users: list[int], telegram_seconds: int) -> None:
    audio = (SAMPLES / "en-weather.ogg").read_bytes()
    for user in users:
        file_id = fake.register_file(audio, f"unique-{user}")
        fake.push_voice(user, user, file_id, telegram_seconds)


def answers(fake: TelegramFake, user: int) -> int:
    return sum(m.plain_text == TRANSCRIPT for m in fake.sent_messages(user))


def everyone_answered(fake: TelegramFake, users: list[int]) -> bool:
    return all(answers(fake, user) >= 1 for user in users)


async def until_everyone_answered(
    env: dict[str, str], fake: TelegramFake, users: list[int], seconds: float
) -> None:
    try:
        await fake.wait_for_async(lambda: everyone_answered(fake, users), seconds, "every answer")
    except AssertionError as timeout:
        raise AssertionError(f"{timeout}\n{left_behind(env)}") from None


def left_behind(env: dict[str, str]) -> str:
    """The jobs and inbox rows as the store holds them: what a failure left unfinished."""
    path = Path(env["VOICESCRIBE_DATA_DIR"]) / "voicescribe.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as raw:
        tables = [row[0] for row in raw.execute("SELECT name FROM sqlite_master")]
        lines = [f"tables: {tables}"]
        queries = {
            "jobs": "SELECT job_id, status, attempts, updated_at FROM jobs",
            "processed_updates": "SELECT * FROM processed_updates",
            "queue_messages": "SELECT * FROM queue_messages",
        }
        for table, query in queries.items():
            if table in tables:
                lines += [f"{table}: {tuple(row)}" for row in raw.execute(query)]
    return "\n".join(line[:300] for line in lines)


async def assert_books(env: dict[str, str], fake: TelegramFake, users: list[int]) -> None:
    """After every process stopped: one answer, one charge, nothing reserved, per note."""
    container = build_container(load_settings(env), Channel.TELEGRAM)
    try:
        for user in users:
            assert answers(fake, user) == 1, f"user {user} answered {answers(fake, user)} times"
            jobs = await container.jobs().list_by_user(user, 10)
            assert [job.status for job in jobs] == [JobStatus.DELIVERED], (user, jobs)
            account = await container.accounts().get(user)
            assert account is not None
            assert (account.spent, account.reserved, account.balance) == (1, 0, TRIAL - 1), user
    finally:
        await container.closing().close_all()


# --- kill -9 of serve while short notes are processed ----------------------------------


async def test_serve_killed_while_short_notes_are_processed_answers_each_once_on_restart(
    env: dict[str, str],
    telegram_fake: TelegramFake,
    dashscope: FakeDashScope,
    processes: Processes,
) -> None:
    users = list(range(801, 807))
    push_notes(telegram_fake, users, telegram_seconds=10)  # short: processed inline
    first = processes.start("serve")
    await telegram_fake.wait_for_async(lambda: dashscope.requests, 90, "a recognition")
    processes.kill_hard(first)

    second = processes.start("serve")
    await until_everyone_answered(env, telegram_fake, users, RECOVERY_SECONDS)
    processes.stop(second)

    await assert_books(env, telegram_fake, users)


# --- kill -9 of webhook --workers 2 while short and long notes are processed -------------

SECRET = "crash-test-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def start_webhook(processes: Processes, port: int) -> subprocess.Popen[str]:
    process = processes.start(
        "webhook", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"
    )
    return process


async def test_webhook_with_workers_killed_mid_notes_answers_each_once_on_restart(
    env: dict[str, str],
    telegram_fake: TelegramFake,
    dashscope: FakeDashScope,
    processes: Processes,
) -> None:
    env["TELEGRAM_WEBHOOK_SECRET"] = SECRET
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    telegram_fake.webhook = WebhookConfig(url, SECRET, None, 40, False)
    first = start_webhook(processes, port)
    await telegram_fake.wait_for_async(lambda: healthy(port), 120, "the webhook listening")
    short, long = list(range(841, 845)), list(range(845, 847))
    push_notes(telegram_fake, short, telegram_seconds=10)  # processed inline
    push_notes(telegram_fake, long, telegram_seconds=600)  # queued for the two workers
    statuses = await telegram_fake.deliver_webhook_async(timeout=30)
    assert statuses == [200] * 6, "every update acknowledged before the kill"
    await telegram_fake.wait_for_async(lambda: len(dashscope.requests) >= 2, 90, "recognitions")
    processes.kill_hard(first)

    second = start_webhook(processes, port)
    await until_everyone_answered(env, telegram_fake, short + long, RECOVERY_SECONDS + 30)
    processes.stop(second, by_the_signal=True)

    await assert_books(env, telegram_fake, short + long)


# --- kill -9 of worker during long jobs, default leases ---------------------------------


async def queue_long_notes(env: dict[str, str], fake: TelegramFake, users: list[int]) -> None:
    """Accepted as the bot would (Telegram says ten minutes, so they are queued)."""
    container = build_container(load_settings(env), Channel.TELEGRAM)
    audio = (SAMPLES / "en-weather.ogg").read_bytes()
    try:
        for user in users:
            file_id = fake.register_file(audio, f"unique-{user}")
            source = AudioSource(MediaKind.VOICE, file_id, f"unique-{user}", 600.0)
            outcome = await container.use_cases().bus.handle(
                AcceptVoiceNote(f"tg:{user}:1", user, user, source)
            )
            assert outcome.acceptance is Acceptance.QUEUED, outcome
    finally:
        await container.closing().close_all()


@pytest.mark.timeout(420)
async def test_worker_killed_during_long_jobs_completes_them_within_two_minutes(
    env: dict[str, str],
    telegram_fake: TelegramFake,
    dashscope: FakeDashScope,
    processes: Processes,
) -> None:
    users = list(range(811, 815))
    await queue_long_notes(env, telegram_fake, users)
    worker = processes.start("worker", "--concurrency", "2")
    await telegram_fake.wait_for_async(lambda: dashscope.requests, 120, "a recognition")
    processes.kill_hard(worker)

    restarted = processes.start("worker", "--concurrency", "2")
    await until_everyone_answered(env, telegram_fake, users, RECOVERY_SECONDS + 30)
    processes.stop(restarted)

    await assert_books(env, telegram_fake, users)


# --- a write lock held 7 s by another connection during a burst -------------------------


class HeldLock:
    """A raw connection holding the SQLite write lock for ``seconds`` on a thread."""

    def __init__(self, path: Path, seconds: float) -> None:
        self.taken = threading.Event()
        self._path, self._seconds = path, seconds
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def __enter__(self) -> HeldLock:
        self._thread.start()
        assert self.taken.wait(60), "the lock was never taken"
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(60)

    def _hold(self) -> None:
        raw = sqlite3.connect(self._path, isolation_level=None, timeout=60)
        try:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("CREATE TABLE IF NOT EXISTS lock_holder (x)")
            self.taken.set()
            threading.Event().wait(self._seconds)  # the fault lasts this long
            raw.execute("COMMIT")
        finally:
            raw.close()


async def test_a_write_lock_held_seven_seconds_during_a_burst_loses_no_note(
    env: dict[str, str],
    telegram_fake: TelegramFake,
    processes: Processes,
) -> None:
    warm_up = [820]
    push_notes(telegram_fake, warm_up, telegram_seconds=10)
    bot = processes.start("serve")
    await telegram_fake.wait_for_async(
        lambda: everyone_answered(telegram_fake, warm_up), 90, "the bot running"
    )
    database = Path(env["VOICESCRIBE_DATA_DIR"]) / "voicescribe.sqlite3"
    users = list(range(821, 829))
    with HeldLock(database, 7.0):
        push_notes(telegram_fake, users, telegram_seconds=10)
    await until_everyone_answered(env, telegram_fake, users, RECOVERY_SECONDS)
    processes.stop(bot)

    await assert_books(env, telegram_fake, [*warm_up, *users])


# --- a full disk during a burst ---------------------------------------------------------


def file_size_limit(limit_bytes: int) -> Callable[[], None]:
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, hard))

    return limit


def largest_file(folder: Path) -> int:
    return max((p.stat().st_size for p in folder.rglob("*") if p.is_file()), default=0)


async def test_a_full_disk_during_a_burst_answers_every_note_once_space_returns(
    env: dict[str, str],
    telegram_fake: TelegramFake,
    processes: Processes,
) -> None:
    # The store is created first, by a bot with room, so the limit only bites new writes.
    warm_up = [830]
    push_notes(telegram_fake, warm_up, telegram_seconds=10)
    first = processes.start("serve")
    await telegram_fake.wait_for_async(
        lambda: everyone_answered(telegram_fake, warm_up), 90, "the bot running"
    )
    processes.stop(first)
    data = Path(env["VOICESCRIBE_DATA_DIR"])
    full = processes.start("serve", preexec_fn=file_size_limit(largest_file(data) + 8192))
    users = list(range(831, 839))
    push_notes(telegram_fake, users, telegram_seconds=10)
    await telegram_fake.wait_for_async(
        lambda: not telegram_fake.pending_updates() or full.poll() is not None,
        90,
        "the burst taken from Telegram (or the bot gone)",
    )
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if full.poll() is None:
        resource.prlimit(full.pid, resource.RLIMIT_FSIZE, (hard, hard))  # space returns
        bot = full
    else:
        bot = processes.start("serve")  # it gave up: a supervisor restarts it
    await until_everyone_answered(env, telegram_fake, users, RECOVERY_SECONDS)
    processes.stop(bot)

    await assert_books(env, telegram_fake, [*warm_up, *users])
