"""Benchmark 7, Whisper's guards against loops (issue #13): word error rate, words out and
decoding time of the packaged Whisper base on the committed samples, clean and in heavy
noise, under faster-whisper's defaults and under each guard set we considered.

Every clip is decoded as production decodes a note from a user with no language set:
language detected, the sample's own language as the Telegram hint (``language_prior``),
greedy (beam 1), VAD on, through the recognizer's own model (``SingleEncodeWhisperModel``).
Only the decoding options differ. The noisy clips are the ones that looped before the
guards (white noise, sigma 0.3, fixed seeds, as in tests/integration/test_whisper_guards.py).
A result is counted as a loop when ``domain.recognition_quality`` calls it degenerate.

Target: the production set (``DECODING``) has no loop on any clip and a clean-speech WER no
worse than faster-whisper's defaults + 3 points. Quick mode: one clip, production set.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import Report, quick_mode
from domain.policies import PCM_16K
from domain.recognition_quality import degenerate_recognition
from infrastructure.audio import PyAvConverter
from infrastructure.whisper import WhisperRecognizer
from infrastructure.whisper.recognizer import DECODING
from tests.word_error_rate import word_error_rate

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
RATE = 16_000

GUARDS: dict[str, dict[str, Any]] = {
    # faster-whisper 1.2.1's own defaults for these options
    "faster-whisper defaults": {
        "temperature": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
        "condition_on_previous_text": True,
        "compression_ratio_threshold": 2.4,
    },
    "greedy, no conditioning": {"temperature": 0.0, "condition_on_previous_text": False},
    "production (DECODING)": dict(DECODING),
    "production, n-gram 10": {**DECODING, "no_repeat_ngram_size": 10},
    "production + repetition_penalty 1.1": {**DECODING, "repetition_penalty": 1.1},
    "production + hallucination_silence 2 s": {
        **DECODING,
        "word_timestamps": True,
        "hallucination_silence_threshold": 2.0,
    },
}


async def _samples(name: str) -> np.ndarray:
    pcm = await PyAvConverter().convert((SAMPLES / f"{name}.ogg").read_bytes(), PCM_16K)
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def _noisy(samples: np.ndarray, seed: int, skip_draws: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    for _ in range(skip_draws):
        rng.normal(0.0, 0.3, samples.size)
    return (samples + rng.normal(0.0, 0.3, samples.size)).astype(np.float32)


async def clips(quick: bool) -> dict[str, tuple[np.ndarray, str, bool]]:
    """name -> (samples, script, clean)."""
    made: dict[str, tuple[np.ndarray, str, bool]] = {}
    names = ["ru-short"] if quick else ["en-short", "ru-short", "en-weather", "ru-greeting"]
    for name in names:
        made[name] = (await _samples(name), (SAMPLES / f"{name}.txt").read_text(), True)
    if not quick:
        ru_short = made["ru-short"]
        made["ru-short, noise (loops when decoded as French)"] = (
            _noisy(ru_short[0], seed=1, skip_draws=1),
            ru_short[1],
            False,
        )
        greeting = made["ru-greeting"]
        made["ru-greeting 3.4 s, noise (detected as English)"] = (
            _noisy(greeting[0][: RATE * 34 // 10], seed=2),
            greeting[1],
            False,
        )
    return made


def main(quick: bool) -> Report:
    report = Report("loop_guards", "Whisper base: loop guards vs WER on the samples", quick)
    recognizer = WhisperRecognizer("base")
    model = recognizer.load()
    made = asyncio.run(clips(quick))
    guards = {"production (DECODING)": GUARDS["production (DECODING)"]} if quick else GUARDS
    summary: dict[str, dict[str, float]] = {}
    for guard, options in guards.items():
        clean_wers, loops, seconds = [], 0, 0.0
        for name, (samples, script, clean) in made.items():
            hint = name[:2]
            started = time.perf_counter()
            segments, info = model.transcribe_with_hint(
                samples, hint, beam_size=1, vad_filter=True, **options
            )
            text = " ".join(s.text.strip() for s in segments if s.text.strip())
            took = time.perf_counter() - started
            seconds += took
            wer = word_error_rate(script, text)
            degenerate = degenerate_recognition(text, samples.size / RATE)
            loops += degenerate is not None
            if clean:
                clean_wers.append(wer)
            report.figure(
                f"{guard} | {name}: WER",
                wer * 100,
                "%",
                f"{len(text.split())} words, {info.language}, {took:.2f} s"
                + (f", DEGENERATE ({degenerate.reason.value})" if degenerate else ""),
            )
        mean_clean = sum(clean_wers) / len(clean_wers)
        summary[guard] = {"clean": mean_clean, "loops": loops, "seconds": seconds}
        report.figure(
            f"{guard}: mean clean WER", mean_clean * 100, "%", f"{loops} loops, {seconds:.1f} s"
        )
    ours = summary["production (DECODING)"]
    report.target("production set: no loop", ours["loops"] == 0, f"{ours['loops']:g} loops")
    if not quick:
        base = summary["faster-whisper defaults"]["clean"]
        report.target(
            "clean WER <= defaults + 3 points",
            ours["clean"] <= base + 0.03,
            f"{ours['clean'] * 100:.1f} % vs {base * 100:.1f} %",
        )
    report.write()
    return report


if __name__ == "__main__":
    main(quick_mode())
