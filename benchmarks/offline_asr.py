"""Benchmark 5, offline recognition: the local recognizer (packaged Whisper base, int8,
2 CPU threads, as configured by default) on 30 s and 3 min of English speech (the
committed sample repeated), through ChunkedRecognition and PyAvConverter as in
production. Reports RTF (recognition wall / audio length; conversion shown apart), peak
RSS of this process, and WER against the known script. Targets: RTF <= 0.08 on 2 cores,
English WER <= 6 %.
"""

from __future__ import annotations

import asyncio
import time

from application.recognition import ChunkedRecognition
from benchmarks.common import CACHE, Report, peak_rss_mb, quick_mode, speech_script, voice_note
from domain.policies import AudioProfile, ChunkSpan
from infrastructure.audio import PyAvConverter
from infrastructure.whisper import WhisperRecognizer
from tests.word_error_rate import word_error_rate


class Split:
    """Adds up the wall time spent converting and recognizing."""

    def __init__(self) -> None:
        self.convert = 0.0
        self.recognize = 0.0


class TimedConverter(PyAvConverter):
    def __init__(self, split: Split) -> None:
        self._split = split

    async def convert(
        self, data: bytes, profile: AudioProfile, span: ChunkSpan | None = None
    ) -> bytes:
        start = time.perf_counter()
        try:
            return await super().convert(data, profile, span)
        finally:
            self._split.convert += time.perf_counter() - start


class TimedRecognizer(WhisperRecognizer):
    def __init__(self, split: Split, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self._split = split

    async def recognize(self, audio, profile, language):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return await super().recognize(audio, profile, language)
        finally:
            self._split.recognize += time.perf_counter() - start


async def run(report: Report, lengths: list[float]) -> None:
    split = Split()
    recognizer = TimedRecognizer(split, models_dir=CACHE / "models")
    load_start = time.perf_counter()
    await recognizer.warm_up()
    report.figure("model load (assembled once, then cached)", time.perf_counter() - load_start, "s")
    report.figure("peak RSS after loading the model", peak_rss_mb(), "MB")
    recognition = ChunkedRecognition(
        TimedConverter(split),
        recognizer,
        short_audio_seconds=10.0,
        max_chunk_seconds=150.0,
        concurrency=4,
    )
    worst_rtf, worst_wer = 0.0, 0.0
    for seconds in lengths:
        data = voice_note(seconds)
        split.convert = split.recognize = 0.0
        start = time.perf_counter()
        result = await recognition.recognize(data, seconds, "en")
        wall = time.perf_counter() - start
        wer = word_error_rate(speech_script(seconds), result.text)
        rtf = wall / seconds  # what a user waits per audio second (conversion included)
        worst_rtf, worst_wer = max(worst_rtf, rtf), max(worst_wer, wer)
        report.figure(
            f"{seconds:g}s wall",
            wall,
            "s",
            f"summed over chunks: recognize {split.recognize:.2f} s"
            f" (incl. waiting for the model lock), convert {split.convert:.2f} s",
        )
        report.ratio(f"{seconds:g}s RTF (wall / audio length)", rtf, 0.08, "target 0.08")
        report.figure(f"{seconds:g}s WER", wer * 100, "%", f"{len(result.text.split())} words")
        report.figure(f"{seconds:g}s peak RSS so far", peak_rss_mb(), "MB")
    report.target("RTF <= 0.08 on 2 cores", worst_rtf <= 0.08, f"worst {worst_rtf:.3f}")
    report.target("English WER <= 6 %", worst_wer <= 0.06, f"worst {worst_wer * 100:.1f} %")


def main(quick: bool) -> Report:
    report = Report("offline_asr", "local Whisper base int8: RTF, RSS, WER", quick)
    asyncio.run(run(report, [10.0] if quick else [30.0, 180.0]))
    report.write()
    return report


if __name__ == "__main__":
    main(quick_mode())
