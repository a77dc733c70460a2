"""Benchmark 4, conversion: voice notes of 5 s, 30 s, 3 min and 60 min to the domain's
profiles with the chosen converter (``PyAvConverter``: streaming decode + numpy +
libmp3lame), a plain PyAV transcode (decode -> resample -> encode, no numpy), and the
ffmpeg CLI where installed. Floor: the faster of the alternatives. Target: the chosen
converter is never slower than 1.1x the faster one.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import time

import av

from benchmarks.common import Report, median, quick_mode, voice_note
from domain.policies import PCM_16K, AudioEncoding, AudioProfile, select_profile
from infrastructure.audio.pyav_converter import convert_blocking


def plain_pyav(data: bytes, profile: AudioProfile) -> bytes:
    """The textbook PyAV transcode: resampler straight into the encoder."""
    out = io.BytesIO()
    with av.open(io.BytesIO(data)) as source:
        stream = source.streams.audio[0]
        if profile.encoding is AudioEncoding.PCM_S16LE:
            resampler = av.AudioResampler(format="s16", layout="mono", rate=profile.sample_rate)
            for frame in source.decode(stream):
                for piece in resampler.resample(frame):
                    out.write(bytes(piece.planes[0])[: piece.samples * 2])
            for piece in resampler.resample(None):
                out.write(bytes(piece.planes[0])[: piece.samples * 2])
            return out.getvalue()
        with av.open(out, mode="w", format="mp3") as sink:
            encoder = sink.add_stream("libmp3lame", rate=profile.sample_rate, layout="mono")
            encoder.bit_rate = (profile.bitrate_kbps or 32) * 1000
            resampler = av.AudioResampler(
                format="s16p", layout="mono", rate=profile.sample_rate, frame_size=1152
            )
            for frame in source.decode(stream):
                for piece in resampler.resample(frame):
                    piece.pts = None
                    sink.mux(encoder.encode(piece))
            for piece in resampler.resample(None):
                piece.pts = None
                sink.mux(encoder.encode(piece))
            sink.mux(encoder.encode(None))
    return out.getvalue()


def ffmpeg_cli(data: bytes, profile: AudioProfile) -> bytes:
    codec = (
        ["-f", "s16le", "-acodec", "pcm_s16le"]
        if profile.encoding is AudioEncoding.PCM_S16LE
        else ["-f", "mp3", "-acodec", "libmp3lame", "-b:a", f"{profile.bitrate_kbps}k"]
    )
    command = ["ffmpeg", "-v", "error", "-i", "pipe:0", "-vn", "-ac", "1"]
    command += ["-ar", str(profile.sample_rate), *codec, "pipe:1"]
    return subprocess.run(command, input=data, capture_output=True, check=True).stdout


def best_of(function, data: bytes, profile: AudioProfile, repeats: int) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    times = []
    size = 0
    for _ in range(repeats):
        start = time.perf_counter()
        size = len(function(data, profile))
        times.append(time.perf_counter() - start)
    return min(times) if repeats > 2 else median(times), size


def main(quick: bool) -> Report:
    report = Report("conversion", "voice notes to the domain's profiles", quick)
    converters = {"chosen (PyAvConverter)": convert_blocking, "plain PyAV": plain_pyav}
    if shutil.which("ffmpeg"):
        converters["ffmpeg CLI"] = ffmpeg_cli
    else:
        report.figure("ffmpeg CLI", "not installed: compared with plain PyAV only")
    cases = [(5.0, 5), (30.0, 3)] if quick else [(5.0, 15), (30.0, 7), (180.0, 3), (3600.0, 1)]
    worst = 0.0
    for seconds, repeats in cases:
        data = voice_note(seconds)
        profiles = [select_profile(seconds, AudioEncoding.MP3)]
        if seconds <= 180:
            profiles.append(PCM_16K)
        for profile in profiles:
            name = f"{seconds:g}s -> {profile.encoding} {profile.sample_rate // 1000}kHz"
            timings = {}
            for label, function in converters.items():
                timings[label], size = best_of(function, data, profile, repeats)
                report.figure(
                    f"{name} {label}",
                    timings[label] * 1000,
                    "ms",
                    f"{seconds / timings[label]:.0f}x realtime, {size} B",
                )
            chosen = timings.pop("chosen (PyAvConverter)")
            fastest_label = min(timings, key=timings.__getitem__)
            ratio = report.ratio(
                f"{name} chosen / fastest other", chosen, timings[fastest_label], fastest_label
            )
            worst = max(worst, ratio)
    report.target("chosen <= 1.1x the faster converter", worst <= 1.1, f"worst {worst:.2f}x")
    report.write()
    return report


if __name__ == "__main__":
    main(quick_mode())
