"""The ``AudioConverter`` port, in-process: no ffmpeg binary, no temp files.

Why this exists: voice notes, audio files and videos arrive in many containers and
codecs; recognizers want one small, known encoding. PyAV bundles FFmpeg (with libopus),
starts no process (fast on short clips) and releases the GIL while it decodes and
encodes, so the blocking work runs in ``asyncio.to_thread``. The routes, cheapest first:
an Opus voice note sent as it is (``_ogg_pages``) or its packets copied (``_opus``), PCM
written from the resampled frames, MP3 through lameenc (``_mp3``) with the decoder a
thread ahead (``_read_ahead``), Opus encoded; every
route streams, holding a few frames, never the decoded file.
"""

from __future__ import annotations

import asyncio
import io
import math

import numpy as np

from application.errors import AudioUnreadable
from application.ports import ProbedAudio
from domain.policies import (
    AudioEncoding,
    AudioProfile,
    ChunkSpan,
    EnergyEnvelope,
    may_copy_packets,
    steps_between,
)
from infrastructure.audio._decoding import decode_pieces, open_audio, pcm_bytes, sample_arrays
from infrastructure.audio._errors import unreadable_on_error
from infrastructure.audio._measure import demuxed_seconds, ogg_opus_seconds
from infrastructure.audio._mp3 import encode_mp3
from infrastructure.audio._ogg_pages import is_whole_opus_stream
from infrastructure.audio._opus import (
    CannotCopy,
    copy_packets,
    copyable,
    encode_opus,
    source_audio,
)
from infrastructure.audio._read_ahead import batched, read_ahead

ENVELOPE_RATE = 16_000
MP3_HANDOFF_BYTES = 1 << 16  # 2 s of 16 kHz PCM per hand-over to the encoding thread


class PyAvConverter:
    """Probes, measures and re-encodes the first audio stream of any FFmpeg-readable file."""

    async def probe(self, data: bytes) -> ProbedAudio:
        """Duration of the first audio stream. Raises AudioUnreadable."""
        return await asyncio.to_thread(probe_blocking, data)

    async def envelope(
        self, data: bytes, step_seconds: float, span: ChunkSpan | None = None
    ) -> EnergyEnvelope:
        """RMS loudness (0..1 of full scale) per ``step_seconds`` of mono 16 kHz audio; with
        ``span``, only of the steps starting in it (a seek and a few seconds of decoding)."""
        return await asyncio.to_thread(envelope_blocking, data, step_seconds, span)

    async def convert(
        self, data: bytes, profile: AudioProfile, span: ChunkSpan | None = None
    ) -> bytes:
        """Mono audio as ``profile`` says: OGG/Opus (copied or encoded), MP3 at its bitrate
        or raw little-endian 16-bit PCM. With ``span``, only that time range."""
        return await asyncio.to_thread(convert_blocking, data, profile, span)


def probe_blocking(data: bytes) -> ProbedAudio:
    """Duration of the audio the file holds, counted from its packets (``_measure``), never
    taken from its header: a declared length can be forged or outlive a truncation.

    Some audio is always decoded, so a file whose header looks fine but whose audio
    cannot be decoded is rejected here rather than later.
    """
    with unreadable_on_error(), open_audio(data) as (container, stream):
        opus_seconds = ogg_opus_seconds(data)
        if opus_seconds is not None:
            if next(container.decode(stream), None) is None:
                raise AudioUnreadable("the file holds no decodable audio", transient=False)
            return ProbedAudio(duration_seconds=opus_seconds)
        seconds = demuxed_seconds(container, stream)
    if seconds is None:  # packets without durations: decode and count the samples
        with unreadable_on_error(), open_audio(data) as (container, stream):
            samples, rate = 0, 0
            for frame in container.decode(stream):
                samples, rate = samples + frame.samples, frame.sample_rate
            seconds = samples / rate if rate else 0.0
    return ProbedAudio(duration_seconds=seconds)


def envelope_blocking(
    data: bytes, step_seconds: float, span: ChunkSpan | None = None
) -> EnergyEnvelope:
    """RMS per step, computed while decoding (only one partial step is carried over).

    Steps are counted from the start of the file, so the loudness of a span's steps is
    the same as that of the same steps in the whole file's envelope."""
    if not math.isfinite(step_seconds) or step_seconds <= 0:
        raise ValueError(f"step_seconds must be positive, got {step_seconds}")
    step = max(1, round(step_seconds * ENVELOPE_RATE))
    first_step = 0
    measured: ChunkSpan | None = None
    if span is not None:
        steps = steps_between(span.start, span.end, step_seconds)
        first_step = steps.start
        if not steps:
            return EnergyEnvelope(step_seconds, (), first_step)
        measured = ChunkSpan(steps.start * step / ENVELOPE_RATE, steps.stop * step / ENVELOPE_RATE)
    values: list[float] = []
    carry = np.zeros(0, dtype=np.float32)
    with unreadable_on_error():
        for chunk in sample_arrays(decode_pieces(data, ENVELOPE_RATE, "flt", measured)):
            buffer = np.concatenate((carry, chunk)) if carry.size else chunk
            full = buffer.size // step * step
            if full:
                blocks = buffer[:full].reshape(-1, step).astype(np.float64)
                values.extend(np.sqrt(np.mean(blocks * blocks, axis=1)).tolist())
            carry = buffer[full:]
    if carry.size:
        values.append(float(np.sqrt(np.mean(carry.astype(np.float64) ** 2))))
    return EnergyEnvelope(step_seconds=step_seconds, values=tuple(values), first_step=first_step)


def convert_blocking(data: bytes, profile: AudioProfile, span: ChunkSpan | None = None) -> bytes:
    """The audio (or one span) as ``profile`` says. Raises AudioUnreadable."""
    if profile.channels != 1:
        raise ValueError("only mono profiles are supported")
    if profile.encoding is not AudioEncoding.PCM_S16LE and profile.bitrate_kbps is None:
        raise ValueError(f"a {profile.encoding} profile needs bitrate_kbps")
    with unreadable_on_error():
        if profile.encoding is AudioEncoding.OPUS:
            return _to_opus(data, profile, span)
        pcm = pcm_bytes(decode_pieces(data, profile.sample_rate, "s16", span))
        if profile.encoding is AudioEncoding.PCM_S16LE:
            out = io.BytesIO()  # grows in place: no list of chunks next to the result
            for piece in pcm:
                out.write(piece)
            return out.getvalue()
        assert profile.bitrate_kbps is not None
        ahead = read_ahead(batched(pcm, MP3_HANDOFF_BYTES))
        return encode_mp3(ahead, profile.sample_rate, profile.bitrate_kbps)


def _to_opus(data: bytes, profile: AudioProfile, span: ChunkSpan | None) -> bytes:
    """Copy the packets when the domain allows it and the file permits; else encode."""
    with open_audio(data) as (container, stream):
        if copyable(container, stream) and may_copy_packets(
            source_audio(container, stream), profile
        ):
            if span is None and len(container.streams) == 1 and is_whole_opus_stream(data):
                return data  # already what the recognizer takes: not even remuxed
            try:
                return copy_packets(container, stream, data, span)
            except CannotCopy:
                pass  # a gap or an odd stream: re-encoding reads what is there, as for any file
    return encode_opus(data, profile, span)
