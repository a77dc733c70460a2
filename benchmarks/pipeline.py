"""Benchmark 2, pipeline overhead: 200 voice notes of 30 s through accept -> queue ->
worker -> delivery, on the production wiring (the DI container, ``alibaba``-style
backends on SQLite): the real DashScope recognizer and Qwen formatter against the
DashScope wire fake, the real Bot API client (download, status edits, delivery) against
the Telegram Bot API fake, each fake in its own process. The fakes answer after fixed
delays: recognition 300 ms, formatting (LLM) 500 ms; the Bot API at once.

Accepting a note is what the bot's handler does: a status message, then AcceptVoiceNote.
Each transcript has 160 words (a fast 30 s speaker), so the LLM formatter runs for every
job. The voice notes are real OGG/Opus, so the converter runs its production route (the
note is sent as it came); its CPU is measured on its own thread and subtracted, since
conversion is benchmark 4's. Floor: the ideal wall for the worker concurrency,
ceil(jobs / workers) x (300 + 500) ms. Targets (#19): wall <= 1.10x ideal; <= 5 ms CPU
per job outside conversion; <= 6 SQLite round trips per job (hand-overs to the database
thread, counted; accept and processing together); every job delivered exactly once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dependency_injector import providers

from application.bootstrap import UseCases
from application.commands import AcceptVoiceNote
from application.ports import Messenger, ProbedAudio
from application.queue_consumer import run_workers
from benchmarks.common import CACHE, ROOT, Report, cpu_seconds, quick_mode, voice_note
from domain.jobs import AudioSource, MediaKind, VoiceJob
from domain.policies import AudioProfile, ChunkSpan
from entrypoints.composition.container import Channel, build_container
from entrypoints.composition.settings import load_settings
from infrastructure.audio import PyAvConverter
from infrastructure.audio.pyav_converter import convert_blocking, probe_blocking

RECOGNITION_SECONDS = 0.3
FORMATTING_SECONDS = 0.5
NOTE_SECONDS = 30.0
WORDS = 160


class TimedConverter(PyAvConverter):
    """The production converter, adding up the thread CPU its probes and conversions take."""

    def __init__(self) -> None:
        self.cpu = 0.0

    async def probe(self, data: bytes) -> ProbedAudio:
        def run() -> ProbedAudio:
            started = time.thread_time()
            try:
                return probe_blocking(data)
            finally:
                self.cpu += time.thread_time() - started

        return await asyncio.to_thread(run)

    async def convert(
        self, data: bytes, profile: AudioProfile, span: ChunkSpan | None = None
    ) -> bytes:
        def run() -> bytes:
            started = time.thread_time()
            try:
                return convert_blocking(data, profile, span)
            finally:
                self.cpu += time.thread_time() - started

        return await asyncio.to_thread(run)


class CountingDeliveries:
    """The real messenger, telling when every job's text went out (and counting them)."""

    def __init__(self, messenger: Messenger, expected: int) -> None:
        self._messenger = messenger
        self.expected = expected
        self.delivered: list[str] = []
        self.all_delivered = asyncio.Event()

    async def report_progress(self, job, progress):  # type: ignore[no-untyped-def]
        await self._messenger.report_progress(job, progress)

    async def notify(self, job, notice):  # type: ignore[no-untyped-def]
        await self._messenger.notify(job, notice)

    def restart(self, expected: int) -> None:
        self.expected = expected
        self.delivered.clear()
        self.all_delivered.clear()

    async def deliver(self, job: VoiceJob, text: str) -> None:
        await self._messenger.deliver(job, text)
        self.delivered.append(job.job_id)
        if len(self.delivered) >= self.expected:
            self.all_delivered.set()


async def accept(bot: Any, app: UseCases, update: dict[str, Any]) -> None:
    """What the bot's handler does with a voice note: a status message, then the command."""
    message = update["message"]
    chat, voice = message["chat"]["id"], message["voice"]
    status = await bot.send_message(chat, "received", reply_to_message_id=message["message_id"])
    source = AudioSource(
        MediaKind.VOICE, voice["file_id"], voice["file_unique_id"], voice["duration"]
    )
    await app.bus.handle(
        AcceptVoiceNote(
            f"tg:{chat}:{message['message_id']}",
            message["from"]["id"],
            chat,
            source,
            reply_to_message_id=message["message_id"],
            status_message_id=status.message_id,
        )
    )


def count_round_trips(database: Any) -> list[int]:
    """Count the hand-overs to the database thread (a transaction or a read each: one
    round trip) from now on; the count is the list's only item."""
    counted = [0]
    submit = database._submit

    async def counting(work: Any) -> Any:
        counted[0] += 1
        return await submit(work)

    database._submit = counting
    return counted


def start_fake(arguments: list[str]) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", *arguments],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().split()


def stop_fake(process: subprocess.Popen[str]) -> str:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.close()
    tail = process.stdout.read().strip()
    process.wait(30)
    return tail


async def run(report: Report, jobs: int, workers: int, directory: Path) -> None:
    voice_note(NOTE_SECONDS)
    note = CACHE / f"en-weather-{NOTE_SECONDS:g}s.ogg"
    updates_file = directory / "updates.json"
    telegram, (api_base_url, token) = start_fake(
        ["benchmarks.telegram_process", "--updates", str(jobs + 1), "--out", str(updates_file),
         "--duration", f"{NOTE_SECONDS:g}", "--file", str(note)]
    )  # fmt: skip
    dashscope, (base_url, api_key) = start_fake(
        ["benchmarks.fake_dashscope_process", "--per-second", "0",
         "--fixed-asr", str(RECOGNITION_SECONDS), "--llm", str(FORMATTING_SECONDS),
         "--transcript-words", str(WORDS)]
    )  # fmt: skip
    try:
        settings = load_settings(
            {
                "VOICESCRIBE_DATA_DIR": str(directory / "var"),
                "WHISPER_BACKEND": "qwen-asr",
                "FORMATTER_BACKEND": "qwen",
                "DASHSCOPE_API_KEY": api_key,
                "DASHSCOPE_BASE_URL": base_url,
                "TELEGRAM_BOT_TOKEN": token,
                "TELEGRAM_API_BASE_URL": api_base_url,
                "SYNC_THRESHOLD_SECONDS": "10",  # 30 s notes are queued for the workers
            }
        )
        container = build_container(settings, Channel.TELEGRAM)
        converter = TimedConverter()
        container.converter.override(providers.Object(converter))
        deliveries = CountingDeliveries(container.messenger(), 1)
        container.messenger.override(providers.Object(deliveries))
        bot = container.telegram_bot()
        await bot.initialize()
        app = container.use_cases()
        await container.jobs().get("warm-up")  # open the database outside the timing
        round_trips = count_round_trips(container.sqlite())
        updates = json.loads(updates_file.read_text())
        stop = asyncio.Event()
        pool = asyncio.create_task(run_workers(app.consumer, workers, stop))
        # One note first, untimed: the SDKs import and build their models on first use,
        # a cost a process pays once, not per job.
        await accept(bot, app, updates[0])
        await asyncio.wait_for(deliveries.all_delivered.wait(), 60)
        deliveries.restart(jobs)
        converter.cpu = 0.0
        round_trips[0] = 0
        cpu0, start = cpu_seconds(), time.perf_counter()
        for update in updates[1:]:
            await accept(bot, app, update)
        accept_wall = time.perf_counter() - start
        await asyncio.wait_for(deliveries.all_delivered.wait(), 600)
        wall = time.perf_counter() - start
        cpu = cpu_seconds() - cpu0 - converter.cpu
        trips = round_trips[0]
        stop.set()
        await pool
        await container.closing().close_all()
    finally:
        calls = stop_fake(telegram)
        stop_fake(dashscope)
    measured = {"wall": wall, "cpu": cpu, "accept_wall": accept_wall, "trips": trips}
    judge(
        report,
        jobs=jobs,
        workers=workers,
        measured=measured,
        deliveries=deliveries,
        converter=converter,
        calls=calls,
    )


def judge(
    report: Report,
    *,
    jobs: int,
    workers: int,
    measured: dict[str, float],
    deliveries: CountingDeliveries,
    converter: TimedConverter,
    calls: str,
) -> None:
    """The figures and the targets of a run."""
    wall, cpu, accept_wall = measured["wall"], measured["cpu"], measured["accept_wall"]
    trips = measured["trips"]
    ideal = math.ceil(jobs / workers) * (RECOGNITION_SECONDS + FORMATTING_SECONDS)
    distinct = set(deliveries.delivered)
    report.figure("jobs", jobs, "", f"{NOTE_SECONDS:g} s each, worker concurrency {workers}")
    report.figure(
        "accept (status message, job stored + queued)",
        accept_wall,
        "s",
        f"{accept_wall / jobs * 1000:.1f} ms/job, overlapping the workers",
    )
    report.figure(
        "delivered (distinct)", len(distinct), "", f"{len(deliveries.delivered)} deliveries"
    )
    report.figure("Bot API calls", calls)
    ratio = report.ratio("wall / ideal", wall, ideal, f"ideal ceil(jobs/{workers}) x 0.8 s")
    per_job = cpu / jobs * 1000
    report.figure(
        "CPU per job outside conversion",
        per_job,
        "ms",
        f"{cpu:.2f} s CPU in all; conversion {converter.cpu / jobs * 1000:.2f} ms/job apart",
    )
    per_job_trips = trips / jobs
    report.ratio("SQLite round trips per job", per_job_trips, 6, "#19's target 6")
    report.target(
        "<= 6 SQLite round trips per job", per_job_trips <= 6, f"{per_job_trips:.1f} per job"
    )
    report.target("wall <= 1.10x ideal", ratio <= 1.10, f"{ratio:.2f}x")
    report.target("<= 5 ms CPU per job outside conversion", per_job <= 5, f"{per_job:.1f} ms")
    report.target(
        "zero lost or duplicated deliveries",
        len(distinct) == jobs == len(deliveries.delivered),
        f"{len(distinct)}/{jobs}",
    )


def main(quick: bool) -> Report:
    logging.disable(logging.INFO)
    report = Report("pipeline", "accept -> queue -> worker -> delivery, fixed-delay fakes", quick)
    jobs, workers = (20, 8) if quick else (200, 16)
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(run(report, jobs, workers, Path(directory)))
    report.write()
    return report


if __name__ == "__main__":
    main(quick_mode())
