"""What the chosen converter is measured against: the same jobs done the textbook way with
plain PyAV, and by the ffmpeg CLI, with the same codec settings (LAME quality, libopus
options) and copy against copy where the chosen converter copies packets.

Why this exists: benchmark 4 must compare like with like, so each alternative here
encodes exactly what ``PyAvConverter`` encodes for that profile; only the route differs.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable

import av

from domain.policies import AudioEncoding, AudioProfile
from infrastructure.audio._mp3 import QUALITY as LAME_QUALITY
from infrastructure.audio._opus import ENCODER_OPTIONS as OPUS_OPTIONS

Job = Callable[[bytes, AudioProfile], bytes]


def plain_pcm(data: bytes, profile: AudioProfile) -> bytes:
    out = io.BytesIO()
    with av.open(io.BytesIO(data)) as source:
        stream = source.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=profile.sample_rate)
        for frame in source.decode(stream):
            for piece in resampler.resample(frame):
                out.write(bytes(piece.planes[0])[: piece.samples * 2])
        for piece in resampler.resample(None):
            out.write(bytes(piece.planes[0])[: piece.samples * 2])
    return out.getvalue()


def _plain_encode(
    data: bytes, profile: AudioProfile, fmt: str, codec: str, **options: str
) -> bytes:
    """Decode -> resampler -> PyAV encoder, the resampler framing for the encoder."""
    out = io.BytesIO()
    with av.open(io.BytesIO(data)) as source, av.open(out, mode="w", format=fmt) as sink:
        encoder = sink.add_stream(codec, rate=profile.sample_rate, layout="mono", options=options)
        encoder.bit_rate = (profile.bitrate_kbps or 32) * 1000
        frame_size = encoder.codec_context.frame_size or None
        resampler = av.AudioResampler(
            format=encoder.codec_context.format.name,
            layout="mono",
            rate=profile.sample_rate,
            frame_size=frame_size,
        )
        for frame in source.decode(source.streams.audio[0]):
            for piece in resampler.resample(frame):
                piece.pts = None
                sink.mux(encoder.encode(piece))
        for piece in resampler.resample(None):
            piece.pts = None
            sink.mux(encoder.encode(piece))
        sink.mux(encoder.encode(None))
    return out.getvalue()


def plain_mp3(data: bytes, profile: AudioProfile) -> bytes:
    """PyAV's bundled libmp3lame at the chosen LAME quality."""
    return _plain_encode(data, profile, "mp3", "libmp3lame", compression_level=str(LAME_QUALITY))


def plain_opus(data: bytes, profile: AudioProfile) -> bytes:
    return _plain_encode(data, profile, "ogg", "libopus", **OPUS_OPTIONS)


def plain_copy(data: bytes, profile: AudioProfile) -> bytes:
    """Remux the first audio stream's packets as they are."""
    out = io.BytesIO()
    with av.open(io.BytesIO(data)) as source, av.open(out, mode="w", format="ogg") as sink:
        stream = source.streams.audio[0]
        target = sink.add_stream_from_template(stream)
        for packet in source.demux(stream):
            if packet.dts is None:
                continue
            packet.stream = target
            sink.mux(packet)
    return out.getvalue()


def _ffmpeg(data: bytes, arguments: list[str]) -> bytes:
    command = ["ffmpeg", "-v", "error", "-i", "pipe:0", "-map", "0:a:0", *arguments, "pipe:1"]
    return subprocess.run(command, input=data, capture_output=True, check=True).stdout


def _resample(profile: AudioProfile) -> list[str]:
    return ["-ac", "1", "-ar", str(profile.sample_rate)]


def ffmpeg_pcm(data: bytes, profile: AudioProfile) -> bytes:
    return _ffmpeg(data, [*_resample(profile), "-f", "s16le", "-c:a", "pcm_s16le"])


def ffmpeg_mp3(data: bytes, profile: AudioProfile) -> bytes:
    codec = ["-c:a", "libmp3lame", "-b:a", f"{profile.bitrate_kbps}k"]
    quality = ["-compression_level", str(LAME_QUALITY)]
    return _ffmpeg(data, [*_resample(profile), *codec, *quality, "-f", "mp3"])


def ffmpeg_opus(data: bytes, profile: AudioProfile) -> bytes:
    codec = ["-c:a", "libopus", "-b:a", f"{profile.bitrate_kbps}k"]
    options = [item for key, value in OPUS_OPTIONS.items() for item in (f"-{key}", value)]
    return _ffmpeg(data, [*_resample(profile), *codec, *options, "-f", "ogg"])


def ffmpeg_copy(data: bytes, profile: AudioProfile) -> bytes:
    return _ffmpeg(data, ["-c:a", "copy", "-f", "ogg"])


PLAIN: dict[str, Job] = {"pcm": plain_pcm, "mp3": plain_mp3, "opus": plain_opus, "copy": plain_copy}
FFMPEG: dict[str, Job] = {
    "pcm": ffmpeg_pcm,
    "mp3": ffmpeg_mp3,
    "opus": ffmpeg_opus,
    "copy": ffmpeg_copy,
}


def job_kind(profile: AudioProfile, copies: bool) -> str:
    if profile.encoding is AudioEncoding.PCM_S16LE:
        return "pcm"
    if profile.encoding is AudioEncoding.MP3:
        return "mp3"
    return "copy" if copies else "opus"
