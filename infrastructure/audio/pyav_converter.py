"""The ``AudioConverter`` port, in-process with PyAV: no ffmpeg binary, no temp files.

Why this exists: voice notes, audio files and videos arrive in many containers and
codecs; recognizers want one small, known encoding. PyAV bundles FFmpeg (with libopus
and libmp3lame), starts no process (fast on short clips) and releases the GIL while it
decodes and encodes, so the blocking work runs in ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Iterable
from fractions import Fraction

import av
import numpy as np

from application.errors import AudioUnreadable
from application.ports import ProbedAudio
from domain.policies import AudioEncoding, AudioProfile, ChunkSpan, EnergyEnvelope
from infrastructure.audio._decoding import decode_mono, open_audio
from infrastructure.audio._errors import unreadable_on_error

ENVELOPE_RATE = 16_000


class PyAvConverter:
    """Probes, measures and re-encodes the first audio stream of any FFmpeg-readable file."""

    async def probe(self, data: bytes) -> ProbedAudio:
        """Duration of the first audio stream. Raises AudioUnreadable."""
        return await asyncio.to_thread(probe_blocking, data)

    async def envelope(self, data: bytes, step_seconds: float) -> EnergyEnvelope:
        """RMS loudness (0..1 of full scale) per ``step_seconds`` of mono 16 kHz audio."""
        return await asyncio.to_thread(envelope_blocking, data, step_seconds)

    async def convert(
        self, data: bytes, profile: AudioProfile, span: ChunkSpan | None = None
    ) -> bytes:
        """Mono audio at ``profile.sample_rate``: MP3 (libmp3lame at ``bitrate_kbps``) or
        raw little-endian 16-bit PCM. With ``span``, only that time range."""
        return await asyncio.to_thread(convert_blocking, data, profile, span)


def probe_blocking(data: bytes) -> ProbedAudio:
    """Declared duration (stream, else container), else counted by decoding.

    One packet is always decoded, so a file whose header looks fine but whose audio
    cannot be decoded is rejected here rather than later.
    """
    with unreadable_on_error(), open_audio(data) as (container, stream):
        declared = _declared_duration(container.duration, stream.duration, stream.time_base)
        frames = container.decode(stream)
        first = next(frames, None)
        if first is None:
            raise AudioUnreadable("the file holds no decodable audio", transient=False)
        if declared is not None:
            return ProbedAudio(duration_seconds=declared)
        samples = first.samples
        for frame in frames:
            samples += frame.samples
        return ProbedAudio(duration_seconds=samples / first.sample_rate)


def _declared_duration(
    container_duration: int | None, stream_duration: int | None, time_base: Fraction | None
) -> float | None:
    """The audio stream's own length first (a video's container may run longer)."""
    if stream_duration is not None and stream_duration > 0 and time_base is not None:
        return float(stream_duration * time_base)
    if container_duration is not None and container_duration > 0:
        return container_duration / av.time_base
    return None


def envelope_blocking(data: bytes, step_seconds: float) -> EnergyEnvelope:
    """RMS per step, computed while decoding (only one partial step is carried over)."""
    if not math.isfinite(step_seconds) or step_seconds <= 0:
        raise ValueError(f"step_seconds must be positive, got {step_seconds}")
    step = max(1, round(step_seconds * ENVELOPE_RATE))
    values: list[float] = []
    carry = np.zeros(0, dtype=np.float32)
    with unreadable_on_error():
        for chunk in decode_mono(data, ENVELOPE_RATE, "flt"):
            buffer = np.concatenate((carry, chunk)) if carry.size else chunk
            full = buffer.size // step * step
            if full:
                blocks = buffer[:full].reshape(-1, step).astype(np.float64)
                values.extend(np.sqrt(np.mean(blocks * blocks, axis=1)).tolist())
            carry = buffer[full:]
    if carry.size:
        values.append(float(np.sqrt(np.mean(carry.astype(np.float64) ** 2))))
    return EnergyEnvelope(step_seconds=step_seconds, values=tuple(values))


def convert_blocking(data: bytes, profile: AudioProfile, span: ChunkSpan | None = None) -> bytes:
    """The audio (or one span) as ``profile`` says. Raises AudioUnreadable."""
    if profile.channels != 1:
        raise ValueError("only mono profiles are supported")
    if profile.encoding is AudioEncoding.MP3 and profile.bitrate_kbps is None:
        raise ValueError("an MP3 profile needs bitrate_kbps")
    with unreadable_on_error():
        chunks = decode_mono(data, profile.sample_rate, "s16", span)
        if profile.encoding is AudioEncoding.PCM_S16LE:
            pcm = io.BytesIO()  # grows in place: no list of chunks next to the result
            for chunk in chunks:
                pcm.write(chunk.astype("<i2", copy=False).data)
            return pcm.getvalue()
        assert profile.bitrate_kbps is not None
        return _encode_mp3(chunks, profile.sample_rate, profile.bitrate_kbps)


def _encode_mp3(chunks: Iterable[np.ndarray], rate: int, bitrate_kbps: int) -> bytes:
    """Encode as it decodes; the MP3 muxer adds a Xing header with the exact length."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp3") as output:
        stream = output.add_stream("libmp3lame", rate=rate, layout="mono")
        stream.bit_rate = bitrate_kbps * 1000
        pts = 0
        for chunk in chunks:
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = pts
            pts += chunk.size
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()
