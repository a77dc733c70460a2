"""Shared pieces: speech material of any length, timing, RSS, the JSON report."""

from __future__ import annotations

import io
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
RESULTS = Path(__file__).resolve().parent / "results"
CACHE = RESULTS / "cache"
VOICE_RATE = 48_000  # Telegram voice notes: OGG/Opus, 48 kHz mono


def quick_mode(argv: list[str] | None = None) -> bool:
    return "--quick" in (sys.argv[1:] if argv is None else argv)


def speech_samples(rate: int = VOICE_RATE, name: str = "en-weather") -> np.ndarray:
    """The committed sample voice note, decoded to mono float32 at ``rate``."""
    from tests.media_clips import decode

    return decode((SAMPLES / f"{name}.ogg").read_bytes(), rate)


def voice_note(seconds: float, name: str = "en-weather") -> bytes:
    """An OGG/Opus voice note of ``seconds``: the sample repeated with 0.4 s pauses.

    Encoded frame by frame (a 60-minute note is never held decoded) and cached in
    ``benchmarks/results/cache`` so later runs skip the encoding.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{name}-{seconds:g}s.ogg"
    if path.exists():
        return path.read_bytes()
    speech = speech_samples(VOICE_RATE, name)
    pause = np.zeros(int(0.4 * VOICE_RATE), dtype=np.float32)
    unit = np.concatenate((speech, pause))
    total = int(seconds * VOICE_RATE)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="ogg") as output:
        stream = output.add_stream("libopus", rate=VOICE_RATE, layout="mono")
        stream.bit_rate = 32_000
        written = 0
        while written < total:
            piece = unit[: total - written]
            frame = av.AudioFrame.from_ndarray(piece.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = VOICE_RATE
            frame.pts = written
            written += piece.size
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    data = buffer.getvalue()
    path.write_bytes(data)
    return data


def speech_script(seconds: float, name: str = "en-weather") -> str:
    """The words said in ``voice_note(seconds)``: the sample's script, once per repeat."""
    text = (SAMPLES / f"{name}.txt").read_text().strip()
    unit = speech_samples(16_000, name).size / 16_000 + 0.4
    whole = int(seconds // unit)
    repeats = whole + (1 if seconds - whole * unit >= unit - 0.4 else 0)
    return " ".join([text] * max(1, repeats))


def peak_rss_mb() -> float:
    """Peak resident set of this process (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    out: dict[str, float] = {}
    wall, cpu = time.perf_counter(), cpu_seconds()
    try:
        yield out
    finally:
        out["wall"] = time.perf_counter() - wall
        out["cpu"] = cpu_seconds() - cpu


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


class Report:
    """Figures, floors and targets of one benchmark: printed, then written as JSON."""

    def __init__(self, name: str, title: str, quick: bool) -> None:
        self.name = name
        self.title = title
        self.quick = quick
        self.figures: dict[str, Any] = {}
        self.targets: list[dict[str, Any]] = []
        print(f"\n== {name}: {title}{' (quick)' if quick else ''}", flush=True)

    def figure(self, key: str, value: Any, unit: str = "", note: str = "") -> None:
        self.figures[key] = value
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"  {key:<46} {shown} {unit}{'  ' + note if note else ''}", flush=True)

    def ratio(self, key: str, value: float, floor: float, floor_name: str) -> float:
        ratio = value / floor if floor else float("inf")
        self.figures[key] = {
            "value": value,
            "floor": floor,
            "floor_name": floor_name,
            "ratio": ratio,
        }
        print(f"  {key:<46} {value:.4g} vs {floor_name} {floor:.4g} -> {ratio:.3f}x", flush=True)
        return ratio

    def target(self, description: str, met: bool, measured: str) -> None:
        """A target of the issue; in quick mode it is reported, never judged."""
        verdict = "n/a (quick)" if self.quick else ("MET" if met else "NOT MET")
        self.targets.append(
            {"target": description, "measured": measured, "met": None if self.quick else met}
        )
        print(f"  target: {description:<44} {measured:<28} {verdict}", flush=True)

    def write(self) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        suffix = "-quick" if self.quick else ""
        path = RESULTS / f"{self.name}{suffix}.json"
        payload = {
            "benchmark": self.name,
            "title": self.title,
            "quick": self.quick,
            "machine": machine(),
            "peak_rss_mb": peak_rss_mb(),
            "figures": self.figures,
            "targets": self.targets,
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        return path
