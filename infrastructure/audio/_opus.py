"""OGG/Opus for the recognizer: the source's packets copied when the policy allows, else
encoded with libopus.

Why this exists: Telegram voice notes already are mono OGG/Opus at 16-32 kbit/s, and a
recognizer that takes Opus needs nothing done to them. Copying the packets of a span
costs milliseconds where decoding and re-encoding it costs seconds of CPU, and loses
nothing. A copied span starts a few packets early (RFC 7845 asks for 80 ms of decoder
pre-roll) and says so in its OpusHead pre-skip, so its decoded audio starts at the packet
holding the span's start and ends with the packet holding its end: within one frame
(20-60 ms) of the span on both sides.
"""

from __future__ import annotations

import io
import struct
from collections import deque
from collections.abc import Iterator

import av
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.packet import Packet

from application.errors import AudioUnreadable
from domain.policies import AudioProfile, ChunkSpan, SourceAudio
from infrastructure.audio._decoding import decode_pieces, open_audio, whole_frames

OPUS_RATE = 48_000  # Opus timestamps and pre-skip always count 48 kHz samples
PREROLL_SAMPLES = 3_840  # 80 ms
SEEK_MARGIN_SAMPLES = 24_000  # seek this far before the pre-roll: pages are ~1 s apart
# libopus: speech mode, 60 ms frames (less framing per second of audio), complexity 5
# (10 costs 1.3x the CPU for no gain a recognizer hears at 16-24 kbit/s).
ENCODER_OPTIONS = {"application": "voip", "frame_duration": "60", "compression_level": "5"}


class CannotCopy(Exception):
    """These packets cannot be copied faithfully (gap, odd container): re-encode instead."""


def source_audio(container: InputContainer, stream: AudioStream) -> SourceAudio:
    """Codec, channels and bitrate, as far as the file tells them."""
    bits = stream.bit_rate or None
    if not bits and len(container.streams) == 1:
        bits = container.bit_rate or None  # the file's size over its duration
    return SourceAudio(
        codec=stream.codec_context.name,
        channels=stream.codec_context.channels,
        bitrate_kbps=bits / 1000 if bits else None,
    )


def copyable(container: InputContainer, stream: AudioStream) -> bool:
    """Only OGG keeps Opus timestamps in 48 kHz samples, which the copy relies on."""
    head = bytes(stream.codec_context.extradata or b"")
    return (
        container.format.name == "ogg"
        and stream.time_base is not None
        and stream.time_base.denominator == OPUS_RATE * stream.time_base.numerator
        and len(head) >= 19
        and head.startswith(b"OpusHead")
    )


def encode_opus(data: bytes, profile: AudioProfile, span: ChunkSpan | None) -> bytes:
    """Decode, resample to the profile's rate and encode with libopus at its bitrate."""
    assert profile.bitrate_kbps is not None
    buffer = io.BytesIO()
    pieces = decode_pieces(data, profile.sample_rate, "s16", span)
    wrote = False
    with av.open(buffer, mode="w", format="ogg") as output:
        stream = output.add_stream(
            "libopus", rate=profile.sample_rate, layout="mono", options=ENCODER_OPTIONS
        )
        stream.bit_rate = profile.bitrate_kbps * 1000
        for frame in whole_frames(pieces, "s16", profile.sample_rate):
            output.mux(stream.encode(frame))
            wrote = True
        if not wrote:
            raise AudioUnreadable("the span holds no audio", transient=False)
        output.mux(stream.encode(None))
    return buffer.getvalue()


def copy_packets(
    container: InputContainer, stream: AudioStream, data: bytes, span: ChunkSpan | None
) -> bytes:
    """The span's Opus packets (with their pre-roll) remuxed into a new OGG stream, read
    from ``container`` (already open on ``data``, positioned at its start).

    Raises CannotCopy if the timestamps have a gap or the format cannot be copied, and
    AudioUnreadable if the span holds no packet at all.
    """
    if not copyable(container, stream):
        raise CannotCopy
    begin = 0 if span is None else round(span.start * OPUS_RATE)
    stop = None if span is None else round(span.end * OPUS_RATE)
    try:
        if begin > PREROLL_SAMPLES + SEEK_MARGIN_SAMPLES:
            try:
                container.seek(begin - PREROLL_SAMPLES - SEEK_MARGIN_SAMPLES, stream=stream)
                return _remux(
                    stream, _span_packets(container.demux(stream), begin, stop, seek=True)
                )
            except _SeekMissed:
                pass
            with open_audio(data) as (again, first):  # read from the beginning instead
                return _remux(first, _span_packets(again.demux(first), begin, stop, seek=False))
        return _remux(stream, _span_packets(container.demux(stream), begin, stop, seek=False))
    except av.error.FFmpegError as exc:
        raise CannotCopy from exc


class _SeekMissed(Exception):
    """The seek landed after the pre-roll's start: read from the beginning instead."""


def _span_packets(
    source: Iterator[Packet[AudioStream]], begin: int, stop: int | None, *, seek: bool
) -> tuple[list[Packet[AudioStream]], int]:
    """The packets to copy and the samples of them to skip (pre-roll, the OGG pre-skip).

    A gap in the timestamps (a lost or damaged page) raises CannotCopy: copying would
    silently drop that audio."""
    # the last pre-roll's worth before the span
    before: deque[tuple[int, Packet[AudioStream]]] = deque()
    expected: int | None = None
    first: Packet[AudioStream] | None = None
    for packet in source:
        pts = packet.pts
        if pts is None or not packet.size:
            continue
        if expected is not None and pts != expected:
            raise CannotCopy
        expected = _end(pts, packet)
        if expected > begin:
            first = packet
            break
        before.append((pts, packet))
        while len(before) >= 2 and before[1][0] <= expected - PREROLL_SAMPLES:
            before.popleft()
    if first is None or first.pts is None:
        raise AudioUnreadable("the span holds no audio", transient=False)
    start_point = max(first.pts, 0)
    earliest = before[0][0] if before else first.pts
    if seek and earliest > max(start_point - PREROLL_SAMPLES, 0):
        raise _SeekMissed
    chosen = [packet for _, packet in before]
    chosen.append(first)
    for packet in source:
        pts = packet.pts
        if pts is None or not packet.size:
            continue
        if pts != expected:
            raise CannotCopy
        if stop is not None and pts >= stop:
            break
        expected = _end(pts, packet)
        chosen.append(packet)
    return chosen, start_point - (earliest or 0)


def _end(pts: int, packet: Packet[AudioStream]) -> int:
    """Where the next packet must start; a packet of unknown length cannot be checked for
    a gap after it, so it is not copied (CannotCopy)."""
    if packet.duration is None:
        raise CannotCopy
    return pts + packet.duration


def _remux(template: AudioStream, span: tuple[list[Packet[AudioStream]], int]) -> bytes:
    packets, skip = span
    extradata = template.codec_context.extradata
    if not 0 <= skip <= 0xFFFF or extradata is None:  # copyable() checked the OpusHead
        raise CannotCopy
    head = bytearray(extradata)
    struct.pack_into("<H", head, 10, skip)  # OpusHead pre-skip
    offset = (packets[0].pts or 0) + skip  # 0 for a span from the start: nothing to rebase
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="ogg") as output:
        stream = output.add_stream_from_template(template)
        stream.codec_context.extradata = bytes(head)
        for packet in packets:
            if offset:
                packet.pts = packet.dts = (packet.pts or 0) - offset
            packet.stream = stream
            output.mux(packet)
    return buffer.getvalue()
