"""Benchmark 3, long audio: a 60-minute recording through ChunkedRecognition with the real
PyAvConverter and DashScopeRecognizer against a DashScope fake (own process) whose
latency is proportional to the chunk's length.

Floors, from the chunks of this run: the ideal parallel schedule of the ASR latencies on
``concurrency`` slots (LPT; a lower bound), the same bound with the conversion CPU spread
over the machine's cores, and sequential chunking (each chunk converted then recognized,
one at a time: the sum). Targets: <= 1.25x ideal, >= 6x faster than sequential at
concurrency 8, peak RSS of the worker (this process) <= 300 MB.
"""

from __future__ import annotations

import asyncio
import heapq
import os
import subprocess
import sys
import time

from application.recognition import ChunkedRecognition
from benchmarks.common import CACHE, Report, peak_rss_mb, quick_mode
from domain.policies import AudioProfile, ChunkSpan, EnergyEnvelope
from infrastructure.audio.pyav_converter import PyAvConverter, convert_blocking
from infrastructure.dashscope import DashScopeRecognizer, close_dashscope_sessions

# qwen3-asr-flash answers a 150 s chunk in a few seconds; 0.02 s per audio second keeps
# the run short while the ASR wait still dominates a chunk (150 s chunk -> 3 s).
SECONDS_PER_AUDIO_SECOND = 0.02
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TimedConverter(PyAvConverter):
    """The production converter; records each conversion's wall and thread CPU time."""

    def __init__(self) -> None:
        self.conversions: list[tuple[float, float, float]] = []  # span length, wall, cpu
        self.envelope_wall = 0.0
        self.first_conversion_at = 0.0

    async def envelope(self, data: bytes, step_seconds: float) -> EnergyEnvelope:
        start = time.perf_counter()
        try:
            return await super().envelope(data, step_seconds)
        finally:
            self.envelope_wall += time.perf_counter() - start

    async def convert(
        self, data: bytes, profile: AudioProfile, span: ChunkSpan | None = None
    ) -> bytes:
        def run() -> bytes:
            wall, cpu = time.perf_counter(), time.thread_time()
            out = convert_blocking(data, profile, span)
            self.conversions.append(
                (span.length if span else 0.0, time.perf_counter() - wall, time.thread_time() - cpu)
            )
            return out

        return await asyncio.to_thread(run)


def lpt_makespan(durations: list[float], slots: int) -> float:
    heap = [0.0] * slots
    for length in sorted(durations, reverse=True):
        heapq.heappush(heap, heapq.heappop(heap) + length)
    return max(heap)


def start_fake(per_second: float) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.fake_dashscope_process",
            "--per-second",
            str(per_second),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    base_url, api_key = process.stdout.readline().split()
    return process, base_url, api_key


async def run(report: Report, seconds: float, concurrency: int) -> None:
    path = CACHE / f"en-weather-{seconds:g}s.ogg"
    data = path.read_bytes()
    process, base_url, api_key = start_fake(SECONDS_PER_AUDIO_SECOND)
    try:
        converter = TimedConverter()
        recognizer = DashScopeRecognizer(api_key, base_url)
        recognition = ChunkedRecognition(
            converter,
            recognizer,
            short_audio_seconds=10.0,
            max_chunk_seconds=150.0,
            concurrency=concurrency,
        )
        rss_before = peak_rss_mb()
        start = time.perf_counter()
        result = await recognition.recognize(data, seconds, None)
        wall = time.perf_counter() - start
        await close_dashscope_sessions()
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(10)
    chunks = [length for length, _, _ in converter.conversions]
    asr = [length * SECONDS_PER_AUDIO_SECOND for length in chunks]
    conversion_wall = [w for _, w, _ in converter.conversions]
    conversion_cpu = sum(c for _, _, c in converter.conversions)
    cores = os.cpu_count() or 1
    ideal_asr = lpt_makespan(asr, concurrency)
    ideal = max(ideal_asr, conversion_cpu / min(cores, concurrency))
    report.figure("envelope (whole file, before any chunk)", converter.envelope_wall, "s")
    report.figure(
        "conversion wall per chunk (median)", sorted(conversion_wall)[len(chunks) // 2], "s"
    )
    sequential = converter.envelope_wall + sum(asr) + conversion_cpu
    report.figure("audio", seconds, "s", f"{len(chunks)} chunks, concurrency {concurrency}")
    report.figure("ASR latency per audio second", SECONDS_PER_AUDIO_SECOND, "s")
    report.figure(
        "conversion CPU, all chunks",
        conversion_cpu,
        "s",
        f"{seconds / conversion_cpu:.0f}x realtime",
    )
    report.figure("transcript words", len(result.text.split()))
    report.figure("peak RSS before the recording", rss_before, "MB")
    ratio_asr = report.ratio("wall / ideal ASR schedule", wall, ideal_asr, "ideal ASR-only")
    ratio = report.ratio("wall / ideal schedule incl. conversion CPU", wall, ideal, "ideal")
    speedup = sequential / wall
    report.figure("sequential chunking (envelope + sum of chunk CPU + ASR)", sequential, "s")
    report.figure("speed-up over sequential", speedup, "x")
    rss = peak_rss_mb()
    report.figure("peak RSS of the worker", rss, "MB")
    report.target("wall <= 1.25x ideal (ASR-only schedule)", ratio_asr <= 1.25, f"{ratio_asr:.2f}x")
    report.target("wall <= 1.25x ideal incl. conversion CPU", ratio <= 1.25, f"{ratio:.2f}x")
    report.target(
        f">= 6x faster than sequential (conc. {concurrency})", speedup >= 6, f"{speedup:.2f}x"
    )
    report.target("peak RSS <= 300 MB", rss <= 300, f"{rss:.0f} MB")


def main(quick: bool) -> Report:
    report = Report("long_audio", "60-minute recording, parallel chunks vs ideal", quick)
    seconds = 400.0 if quick else 3600.0
    asyncio.run(run(report, seconds, 8))
    report.write()
    return report


if __name__ == "__main__":
    main(quick_mode())
