"""Benchmark 2, pipeline overhead: 200 voice notes of 30 s through accept -> queue ->
worker -> delivery, on the real handler graph (``application.bootstrap``) with the real
SQLite jobs, accounts and queue, and fakes at the edges that answer after fixed delays:
recognition 300 ms, formatting (LLM) 500 ms. Conversion is a no-op fake (measured by
benchmark 4), so all CPU counted here is outside conversion.

Each transcript has 160 words (a fast 30 s speaker), so the LLM formatter runs for every
job. Floor: the ideal wall for the configured worker concurrency, ceil(jobs / workers) x
(300 + 500) ms. Targets: wall <= 1.15x ideal; <= 5 ms CPU per job outside conversion.
"""

from __future__ import annotations

import asyncio
import logging
import math
import tempfile
import time
from pathlib import Path

from application.bootstrap import Ports, Tuning, bootstrap
from application.commands import AcceptVoiceNote
from application.ports import Recognition
from benchmarks.common import Report, cpu_seconds, quick_mode, speech_script
from domain.jobs import AudioSource, MediaKind, UserStyle
from domain.policies import AudioEncoding, AudioProfile, TranscriptionPolicy
from entrypoints.worker_loop import run_workers
from infrastructure.local_formatter import ParagraphFormatter
from infrastructure.sqlite import (
    SqliteAccountRepository,
    SqliteDatabase,
    SqliteJobQueue,
    SqliteJobRepository,
    SqlitePaymentRepository,
    SqliteSettingsRepository,
)
from infrastructure.system_clock import SystemClock
from tests.application.in_memory import (
    FakeAudio,
    FakeConverter,
    FakeFileSource,
    RecordingAlerts,
    RecordingMessenger,
    RecordingStarsGateway,
)

RECOGNITION_SECONDS = 0.3
FORMATTING_SECONDS = 0.5
NOTE_SECONDS = 30.0


class DelayedRecognizer:
    def __init__(self, text: str) -> None:
        self._text = text

    @property
    def encoding(self) -> AudioEncoding:
        return AudioEncoding.MP3

    @property
    def max_chunk_seconds(self) -> float | None:
        return 280.0

    async def recognize(
        self, audio: bytes, profile: AudioProfile, language: str | None
    ) -> Recognition:
        await asyncio.sleep(RECOGNITION_SECONDS)
        return Recognition(self._text, "en")


class DelayedFormatter:
    name = "qwen-fake"

    async def format(self, text: str, style: UserStyle) -> str:
        await asyncio.sleep(FORMATTING_SECONDS)
        return text


class CountingMessenger(RecordingMessenger):
    def __init__(self, expected: int) -> None:
        super().__init__()
        self.expected = expected
        self.all_delivered = asyncio.Event()

    async def deliver(self, job, text):  # type: ignore[no-untyped-def]
        await super().deliver(job, text)
        if len(self.delivered) >= self.expected:
            self.all_delivered.set()


async def run(report: Report, jobs: int, workers: int, directory: Path) -> None:
    words = (speech_script(60.0) + " ").split()[:160]
    db = SqliteDatabase(directory / "bench.sqlite3")
    files = FakeFileSource()
    messenger = CountingMessenger(jobs)
    ports = Ports(
        jobs=SqliteJobRepository(db),
        accounts=SqliteAccountRepository(db),
        queue=SqliteJobQueue(db, visibility_timeout_seconds=120.0),
        files=files,
        converter=FakeConverter(files),
        recognizer=DelayedRecognizer(" ".join(words)),
        llm_formatters=[DelayedFormatter()],
        local_formatter=ParagraphFormatter(),
        messenger=messenger,
        clock=SystemClock(),
        settings=SqliteSettingsRepository(db),
        payments=SqlitePaymentRepository(db),
        stars=RecordingStarsGateway(),
        alerts=RecordingAlerts(),
    )
    policy = TranscriptionPolicy(sync_threshold_seconds=10.0)  # 30 s notes are queued
    app = bootstrap(ports, Tuning(policy=policy))
    commands = []
    for index in range(jobs):
        files.files[f"f{index}"] = FakeAudio(NOTE_SECONDS, "x")
        source = AudioSource(MediaKind.VOICE, f"f{index}", f"u{index}", NOTE_SECONDS)
        commands.append(AcceptVoiceNote(f"job{index}", 1000 + index, 1000 + index, source))
    await ports.jobs.get("warm-up")  # open the database and its schema outside the timing
    stop = asyncio.Event()
    cpu0, start = cpu_seconds(), time.perf_counter()
    pool = asyncio.create_task(run_workers(app.consumer, workers, stop))
    accept_start = time.perf_counter()
    for command in commands:
        await app.bus.handle(command)
    accept_wall = time.perf_counter() - accept_start
    await asyncio.wait_for(messenger.all_delivered.wait(), 600)
    wall = time.perf_counter() - start
    cpu = cpu_seconds() - cpu0
    stop.set()
    await pool
    await db.close()
    ideal = math.ceil(jobs / workers) * (RECOGNITION_SECONDS + FORMATTING_SECONDS)
    delivered = {job_id for job_id, _ in messenger.delivered}
    report.figure("jobs", jobs, "", f"{NOTE_SECONDS:g} s each, worker concurrency {workers}")
    report.figure(
        "accept (all jobs stored + queued)",
        accept_wall,
        "s",
        f"{accept_wall / jobs * 1000:.1f} ms/job",
    )
    report.figure(
        "delivered (distinct)", len(delivered), "", f"{len(messenger.delivered)} deliveries"
    )
    ratio = report.ratio("wall / ideal", wall, ideal, f"ideal ceil(jobs/{workers}) x 0.8 s")
    per_job = cpu / jobs * 1000
    report.figure("CPU per job outside conversion", per_job, "ms", f"{cpu:.2f} s CPU in all")
    report.target("wall <= 1.15x ideal", ratio <= 1.15, f"{ratio:.2f}x")
    report.target("<= 5 ms CPU per job outside conversion", per_job <= 5, f"{per_job:.1f} ms")
    report.target(
        "zero lost or duplicated deliveries",
        len(delivered) == jobs == len(messenger.delivered),
        f"{len(delivered)}/{jobs}",
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
