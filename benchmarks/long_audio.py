"""Benchmark 3, long audio: a 60-minute recording through ChunkedRecognition with the real
PyAvConverter and DashScopeRecognizer (OGG/Opus upload) against a DashScope fake (own
process) whose latency is proportional to the audio's duration in each request.

Floors, from the chunks of this run: the ideal parallel schedule of the ASR latencies on
``concurrency`` slots (LPT; a lower bound), the same bound with the conversion and cut
planning CPU spread over the machine's cores, and sequential chunking as the reference
bot did it (the whole file's loudness first, then each chunk converted and recognized,
one at a time). Targets: <= 1.25x ideal, >= 6x faster than sequential at concurrency 8,
peak RSS of the worker (this process) <= 300 MB; time to first text (the draft shows the
first chunk's text: from the start of recognition until the draft is no longer empty)
<= 1.5x one chunk's recognition latency (the fake's latency for the first chunk). Extra
figure: the same hour as an M4A/AAC file (made once, cached), which must be re-encoded to
Opus: what that costs on these cores.
"""

from __future__ import annotations

import asyncio
import heapq
import io
import os
import subprocess
import sys
import time

import av
import numpy as np

from application.recognition import ChunkedRecognition, ChunkRecognized, available_cores
from benchmarks.common import CACHE, VOICE_RATE, Report, peak_rss_mb, quick_mode, voice_note
from domain.cancellation import draft
from domain.policies import AudioProfile, ChunkSpan, EnergyEnvelope
from infrastructure.audio.pyav_converter import PyAvConverter, convert_blocking, envelope_blocking
from infrastructure.dashscope import DashScopeRecognizer, close_dashscope_sessions

# qwen3-asr-flash answers a 150 s chunk in a few seconds; 0.02 s per audio second keeps
# the run short while the ASR wait still dominates a chunk (150 s chunk -> 3 s).
SECONDS_PER_AUDIO_SECOND = 0.02
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TimedConverter(PyAvConverter):
    """The production converter; records each call's span, wall and thread CPU time."""

    def __init__(self) -> None:
        self.conversions: list[tuple[float, float, float]] = []  # span length, wall, cpu
        self.windows: list[tuple[float, float]] = []  # wall, cpu of each cut's loudness

    async def envelope(
        self, data: bytes, step_seconds: float, span: ChunkSpan | None = None
    ) -> EnergyEnvelope:
        def run() -> EnergyEnvelope:
            wall, cpu = time.perf_counter(), time.thread_time()
            out = envelope_blocking(data, step_seconds, span)
            self.windows.append((time.perf_counter() - wall, time.thread_time() - cpu))
            return out

        return await asyncio.to_thread(run)

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


def start_fake(
    per_second: float, per_request: float = 0.0
) -> tuple[subprocess.Popen[str], str, str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.fake_dashscope_process",
            "--per-second",
            str(per_second),
            "--per-request",
            str(per_request),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    base_url, api_key = process.stdout.readline().split()
    return process, base_url, api_key


def aac_hour(seconds: float) -> bytes:
    """The voice note as mono 48 kHz AAC in M4A (a phone's recording), made once, cached."""
    path = CACHE / f"en-weather-{seconds:g}s.m4a"
    if path.exists():
        return path.read_bytes()
    buffer = io.BytesIO()
    with (
        av.open(io.BytesIO(voice_note(seconds))) as source,
        av.open(buffer, mode="w", format="ipod") as output,
    ):
        stream = output.add_stream("aac", rate=VOICE_RATE, layout="mono")
        stream.bit_rate = 64_000
        for frame in source.decode(audio=0):
            frame.pts = None
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    path.write_bytes(buffer.getvalue())
    return path.read_bytes()


class FirstText:
    """When the draft (``domain.cancellation.draft``) first shows text, and the span of
    the chunk that made it show."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.texts: dict[int, str] = {}
        self.after: float | None = None
        self.span: ChunkSpan | None = None

    async def chunk_recognized(self, chunk: ChunkRecognized) -> None:
        self.texts[chunk.index] = chunk.recognition.text
        if self.after is None and draft(self.texts):
            self.after = time.perf_counter() - self.started
            self.span = chunk.span


async def recognize(
    data: bytes, seconds: float, concurrency: int
) -> tuple[float, TimedConverter, FirstText]:
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
        start = time.perf_counter()
        first = FirstText(start)
        result = await recognition.recognize(data, seconds, None, on_chunk=first.chunk_recognized)
        wall = time.perf_counter() - start
        assert result.text, "the fake answered every chunk"
        await close_dashscope_sessions()
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(10)
    return wall, converter, first


def whole_envelope_seconds(data: bytes) -> float:
    """What the reference bot spent before its first chunk: the whole file's loudness."""
    start = time.perf_counter()
    envelope_blocking(data, 0.1)
    return time.perf_counter() - start


async def run(report: Report, seconds: float, concurrency: int) -> None:
    data = voice_note(seconds)
    rss_before = peak_rss_mb()
    wall, converter, first = await recognize(data, seconds, concurrency)
    rss = peak_rss_mb()
    chunks = [length for length, _, _ in converter.conversions]
    asr = [length * SECONDS_PER_AUDIO_SECOND for length in chunks]
    conversion_cpu = sum(c for _, _, c in converter.conversions)
    planning_cpu = sum(c for _, c in converter.windows)
    cores = available_cores()
    ideal_asr = lpt_makespan(asr, concurrency)
    ideal = max(ideal_asr, (conversion_cpu + planning_cpu) / min(cores, concurrency))
    envelope = whole_envelope_seconds(data)
    sequential = envelope + sum(w for _, w, _ in converter.conversions) + sum(asr)
    report.figure("audio", seconds, "s", f"{len(chunks)} chunks, concurrency {concurrency}")
    report.figure("ASR latency per audio second", SECONDS_PER_AUDIO_SECOND, "s")
    report.figure("cut planning: windows measured", len(converter.windows))
    report.figure("cut planning CPU, all windows", planning_cpu, "s")
    report.figure(
        "conversion wall per chunk (median)",
        float(np.median([w for _, w, _ in converter.conversions])),
        "s",
    )
    report.figure("conversion CPU, all chunks", conversion_cpu, "s", "Opus packets copied")
    report.figure("peak RSS before the recording", rss_before, "MB")
    ratio_asr = report.ratio("wall / ideal ASR schedule", wall, ideal_asr, "ideal ASR-only")
    ratio = report.ratio("wall / ideal schedule incl. CPU", wall, ideal, "ideal")
    report.figure("sequential: whole-file envelope (reference bot)", envelope, "s")
    report.figure("sequential chunking (envelope + chunk conversions + ASR)", sequential, "s")
    speedup = sequential / wall
    report.figure("speed-up over sequential", speedup, "x")
    report.figure("peak RSS of the worker", rss, "MB")
    report.target("wall <= 1.25x ideal (ASR-only schedule)", ratio_asr <= 1.25, f"{ratio_asr:.2f}x")
    report.target("wall <= 1.25x ideal incl. CPU", ratio <= 1.25, f"{ratio:.2f}x")
    report.target(
        f">= 6x faster than sequential (conc. {concurrency})", speedup >= 6, f"{speedup:.2f}x"
    )
    report.target("peak RSS <= 300 MB", rss <= 300, f"{rss:.0f} MB")
    assert first.after is not None and first.span is not None, "the draft showed text"
    one_chunk = first.span.length * SECONDS_PER_AUDIO_SECOND
    report.figure("time to first text (draft shows chunk 1)", first.after, "s")
    first_ratio = report.ratio(
        "time to first text / one chunk's recognition latency",
        first.after,
        one_chunk,
        "one chunk's ASR latency",
    )
    report.target(
        "time to first text <= 1.5x one chunk's latency", first_ratio <= 1.5, f"{first_ratio:.2f}x"
    )


async def run_reencoded(report: Report, seconds: float, concurrency: int) -> None:
    """The same hour from M4A/AAC: every chunk decoded and encoded with libopus."""
    data = aac_hour(seconds)
    wall, converter, _ = await recognize(data, seconds, concurrency)
    asr = [length * SECONDS_PER_AUDIO_SECOND for length, _, _ in converter.conversions]
    cpu = sum(c for _, _, c in converter.conversions) + sum(c for _, c in converter.windows)
    cores = available_cores()
    ideal = max(lpt_makespan(asr, concurrency), cpu / min(cores, concurrency))
    report.figure(
        "m4a source: conversion + planning CPU", cpu, "s", f"{seconds / cpu:.0f}x realtime"
    )
    report.ratio(
        "m4a source: wall / ideal ASR schedule",
        wall,
        lpt_makespan(asr, concurrency),
        "ideal ASR-only",
    )
    report.ratio("m4a source: wall / ideal incl. CPU", wall, ideal, f"ideal on {cores} cores")
    report.figure("m4a source: peak RSS of the worker", peak_rss_mb(), "MB")


def main(quick: bool) -> Report:
    report = Report("long_audio", "60-minute recording, parallel chunks vs ideal", quick)
    seconds = 400.0 if quick else 3600.0
    asyncio.run(run(report, seconds, 8))
    asyncio.run(run_reencoded(report, seconds, 8))
    report.write()
    return report


if __name__ == "__main__":
    main(quick_mode())
