"""Benchmark 4, conversion: voice notes of 5 s, 30 s, 3 min and 60 min to the domain's
profiles with the chosen converter (``PyAvConverter``), a plain PyAV implementation of the
same job and the ffmpeg CLI doing the same job where installed (``alternatives.py``: same
codec settings; copy against copy where the chosen converter copies Opus packets).

Profiles: Opus (``select_profile``; a mono 32 kbit/s voice note is copied), MP3 (the
reference format, lameenc), PCM 16 kHz up to 3 min (Whisper), and Opus re-encoded (what a
non-Opus source costs) up to 3 min. Runs are interleaved (A, B, C, A, B, C, ...) and the
best of N is kept. Floor: the faster alternative. Target: chosen <= 1.1x it, every case.
"""

from __future__ import annotations

import shutil
import time

from benchmarks.alternatives import FFMPEG, PLAIN, Job, job_kind
from benchmarks.common import Report, quick_mode, voice_note
from domain.policies import PCM_16K, AudioEncoding, AudioProfile, select_profile
from infrastructure.audio._opus import encode_opus
from infrastructure.audio.pyav_converter import convert_blocking

CHOSEN = "chosen (PyAvConverter)"


def reencode_opus(data: bytes, profile: AudioProfile) -> bytes:
    """The converter's route for a source it may not copy (stereo, rich, not Opus)."""
    return encode_opus(data, profile, None)


def interleaved_best(jobs: dict[str, Job], data: bytes, profile: AudioProfile, rounds: int):  # type: ignore[no-untyped-def]
    best = {label: float("inf") for label in jobs}
    sizes = {}
    labels = list(jobs)
    for round_ in range(rounds):
        for label in labels[round_ % len(labels) :] + labels[: round_ % len(labels)]:
            start = time.perf_counter()
            sizes[label] = len(jobs[label](data, profile))
            best[label] = min(best[label], time.perf_counter() - start)
    return best, sizes


def cases(seconds: float) -> list[tuple[str, AudioProfile, bool]]:
    """(name, profile, whether the chosen converter copies) for one note length."""
    opus = select_profile(seconds, AudioEncoding.OPUS)
    found = [("opus copy", opus, True), ("mp3", select_profile(seconds, AudioEncoding.MP3), False)]
    if seconds <= 180:
        found += [("pcm", PCM_16K, False), ("opus re-encode", opus, False)]
    return found


def main(quick: bool) -> Report:
    report = Report("conversion", "voice notes to the domain's profiles", quick)
    have_ffmpeg = shutil.which("ffmpeg") is not None
    if not have_ffmpeg:
        report.figure("ffmpeg CLI", "not installed: compared with plain PyAV only")
    sizes = [(5.0, 5), (30.0, 3)] if quick else [(5.0, 15), (30.0, 7), (180.0, 3), (3600.0, 1)]
    worst, worst_case = 0.0, ""
    rows = []
    for seconds, rounds in sizes:
        data = voice_note(seconds)
        for name, profile, copies in cases(seconds):
            if seconds > 180 and not copies and profile.encoding is AudioEncoding.OPUS:
                continue
            kind = job_kind(profile, copies)
            chosen: Job = reencode_opus if name == "opus re-encode" else convert_blocking
            jobs: dict[str, Job] = {CHOSEN: chosen, "plain PyAV": PLAIN[kind]}
            if have_ffmpeg:
                jobs["ffmpeg CLI"] = FFMPEG[kind]
            label = f"{seconds:g}s -> {name} {profile.sample_rate // 1000}kHz"
            if profile.bitrate_kbps:
                label += f"/{profile.bitrate_kbps}k"
            best, out_sizes = interleaved_best(jobs, data, profile, rounds)
            for who, took in best.items():
                report.figure(
                    f"{label} {who}",
                    took * 1000,
                    "ms",
                    f"{seconds / took:.0f}x realtime, {out_sizes[who]} B",
                )
            others = {who: took for who, took in best.items() if who != CHOSEN}
            fastest = min(others, key=others.__getitem__)
            ratio = report.ratio(
                f"{label} chosen / fastest other", best[CHOSEN], others[fastest], fastest
            )
            rows.append({"case": label, "ratio": ratio, "floor": fastest})
            if ratio > worst:
                worst, worst_case = ratio, label
    report.figures["cases"] = rows
    report.target(
        "chosen <= 1.1x the faster converter", worst <= 1.1, f"worst {worst:.2f}x ({worst_case})"
    )
    report.write()
    return report


if __name__ == "__main__":
    main(quick_mode())
