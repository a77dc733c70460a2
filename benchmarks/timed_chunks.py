"""Benchmark 8, timed chunks: what subtitles from qwen3-asr-flash cost against plain text.

qwen3-asr-flash gives no times, so a recording wanted with times (timed text, .srt, .vtt)
is cut into cue-sized chunks (5-15 s at pauses, ``domain.cue_chunks``) instead of the
plain path's chunks of up to 150 s. The same voice note goes through ChunkedRecognition
with the real PyAvConverter and DashScopeRecognizer (OGG/Opus) against the DashScope fake
(own process), once for plain text (the floor) and once with times wanted, at the
default ``ASR_CONCURRENCY`` (4), in the same run. Counted in this process: requests,
audio bytes and base64 bytes sent, audio seconds sent (what DashScope bills), the
loudness measurements made to place the cuts (plain: one window per cut; cue-sized: the
blocks of ``LoudnessAhead``) and their CPU, and the wall of each path.

The fake's latency: ``PER_REQUEST_SECONDS`` for each request (a round trip's fixed cost,
which many short requests pay many times) plus ``SECONDS_PER_AUDIO_SECOND`` x the audio's
duration, as in ``long_audio.py``. Targets: the same audio seconds (the same price), bytes
within 10 % of plain (each chunk is a whole OGG stream with its own headers).
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from application.recognition import ChunkedRecognition
from benchmarks.common import Report, quick_mode, voice_note
from benchmarks.long_audio import TimedConverter, lpt_makespan, start_fake
from domain.policies import AudioProfile
from infrastructure.dashscope import DashScopeRecognizer, close_dashscope_sessions

SECONDS_PER_AUDIO_SECOND = 0.02
PER_REQUEST_SECONDS = 0.3
CONCURRENCY = 4
DATA_URI_PREFIX = len("data:audio/ogg;base64,")


class CountingRecognizer(DashScopeRecognizer):
    """The production recognizer; counts each request and the bytes it carries."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests = 0
        self.audio_bytes = 0
        self.base64_bytes = 0

    async def recognize(
        self,
        audio: bytes,
        profile: AudioProfile,
        language: str | None,
        language_hint: str | None = None,
    ) -> Any:
        self.requests += 1
        self.audio_bytes += len(audio)
        self.base64_bytes += DATA_URI_PREFIX + 4 * math.ceil(len(audio) / 3)
        return await super().recognize(audio, profile, language, language_hint)


async def one_path(data: bytes, seconds: float, times_wanted: bool) -> dict[str, float]:
    process, base_url, api_key = start_fake(SECONDS_PER_AUDIO_SECOND, PER_REQUEST_SECONDS)
    try:
        converter = TimedConverter()
        recognizer = CountingRecognizer(api_key, base_url)
        recognition = ChunkedRecognition(
            converter,
            recognizer,
            short_audio_seconds=10.0,
            max_chunk_seconds=150.0,
            concurrency=CONCURRENCY,
        )
        start = time.perf_counter()
        result = await recognition.recognize(data, seconds, None, times_wanted=times_wanted)
        wall = time.perf_counter() - start
        assert result.text, "the fake answered every chunk"
        await close_dashscope_sessions()
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(10)
    lengths = [length for length, _, _ in converter.conversions]
    latencies = [PER_REQUEST_SECONDS + SECONDS_PER_AUDIO_SECOND * s for s in lengths or [seconds]]
    return {
        "ideal asr": lpt_makespan(latencies, CONCURRENCY),
        "requests": recognizer.requests,
        "segments": len(result.segments),
        "audio seconds": sum(lengths) if lengths else seconds,
        "audio bytes": recognizer.audio_bytes,
        "base64 bytes": recognizer.base64_bytes,
        "windows": len(converter.windows),
        "planning cpu": sum(cpu for _, cpu in converter.windows),
        "conversion cpu": sum(cpu for _, _, cpu in converter.conversions),
        "wall": wall,
        "longest chunk": max(lengths) if lengths else seconds,
    }


async def run(report: Report, seconds: float) -> None:
    data = voice_note(seconds)
    plain = await one_path(data, seconds, times_wanted=False)
    timed = await one_path(data, seconds, times_wanted=True)
    tag = f"{seconds / 60:g} min" if seconds % 60 == 0 else f"{seconds:g} s"
    report.figure(
        f"{tag}: requests plain / cue-sized", f"{plain['requests']} / {timed['requests']}"
    )
    report.figure(f"{tag}: longest chunk, cue-sized", timed["longest chunk"], "s")
    requests = report.ratio(f"{tag}: requests", timed["requests"], plain["requests"], "plain path")
    billed = report.ratio(
        f"{tag}: audio seconds sent (billed)", timed["audio seconds"], plain["audio seconds"],
        "plain path",
    )  # fmt: skip
    sent = report.ratio(
        f"{tag}: audio bytes sent", timed["audio bytes"], plain["audio bytes"], "plain path"
    )
    report.ratio(
        f"{tag}: base64 bytes sent", timed["base64 bytes"], plain["base64 bytes"], "plain path"
    )
    report.figure(
        f"{tag}: loudness measurements plain / cue-sized",
        f"{plain['windows']} / {timed['windows']}",
        note=f"planning CPU {plain['planning cpu']:.2f} / {timed['planning cpu']:.2f} s",
    )
    report.ratio(
        f"{tag}: conversion + planning CPU",
        timed["conversion cpu"] + timed["planning cpu"],
        plain["conversion cpu"] + plain["planning cpu"],
        "plain path",
    )
    wall = report.ratio(f"{tag}: wall", timed["wall"], plain["wall"], "plain path")
    report.ratio(
        f"{tag}: ideal ASR schedules (LPT, {CONCURRENCY} slots)",
        timed["ideal asr"], plain["ideal asr"], "plain path",
    )  # fmt: skip
    report.ratio(f"{tag}: cue-sized wall / its ideal", timed["wall"], timed["ideal asr"], "ideal")
    report.target(f"{tag}: same audio seconds (same price)", abs(billed - 1) <= 0.01,
                  f"{billed:.3f}x")  # fmt: skip
    report.target(f"{tag}: bytes sent <= 1.10x plain", sent <= 1.10, f"{sent:.3f}x")
    report.figure(f"{tag}: summary", f"{requests:.1f}x requests, {wall:.2f}x wall")


def main(quick: bool) -> Report:
    report = Report("timed_chunks", "cue-sized chunks for times vs the plain path", quick)
    report.figure(
        "fake ASR latency",
        f"{PER_REQUEST_SECONDS} s + {SECONDS_PER_AUDIO_SECOND} s per audio second",
        note=f"concurrency {CONCURRENCY}",
    )
    for seconds in (400.0,) if quick else (600.0, 3600.0):
        asyncio.run(run(report, seconds))
    report.write()
    return report


if __name__ == "__main__":
    main(quick_mode())
