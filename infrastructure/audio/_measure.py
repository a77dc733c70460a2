"""How much audio a file actually holds, counted from its packets, never from what its
header or last page declares.

Why this exists: the price and the chunk plan come from the probed duration, and a
container's declared length is whatever the uploader wrote: an OGG whose last page's
granule position claims 5 s can carry 30 minutes of Opus, and a truncated MP3's Xing
header still declares the whole. So the probe counts what is there, without decoding:

- OGG/Opus (every voice note): the pages are walked in Python and each audio packet's
  length read from its TOC byte (RFC 6716 section 3.1), minus the OpusHead pre-skip. No
  granule position is trusted, no packet object made: ~3 ms per minute of 20 ms packets,
  where PyAV's demuxer takes ~60 ms. Pages are read as FFmpeg reads them: no CRC check,
  and a run of bytes that is not a page is skipped up to the next ``OggS``.
- anything else: PyAV demuxes the audio stream's packets and sums their durations, which
  FFmpeg derives from the codec's frame sizes; the first packets are decoded (until one
  frame comes out) so that a file whose audio cannot be decoded is still refused.
  Should a packet carry no duration, the caller decodes the stream and counts samples.
"""

from __future__ import annotations

import struct
from fractions import Fraction

import av
from av.audio.stream import AudioStream
from av.container import InputContainer

from application.errors import AudioUnreadable

OPUS_RATE = 48_000
_PAGE = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, seq, crc, n
_CAPTURE = b"OggS"
_CONTINUED = 0x01
_HEADER_PACKETS = 2  # OpusHead, OpusTags


def _frame_samples(config: int) -> int:
    """48 kHz samples in one frame of a TOC configuration (RFC 6716, table 2)."""
    if config < 12:  # SILK-only: 10, 20, 40, 60 ms
        return (480, 960, 1920, 2880)[config % 4]
    if config < 16:  # hybrid: 10, 20 ms
        return (480, 960)[config % 2]
    return (120, 240, 480, 960)[config % 4]  # CELT-only: 2.5, 5, 10, 20 ms


# Samples of a packet by its TOC byte; codes 0-2 hold 1, 2 and 2 frames, code 3 holds the
# count in its second byte's low 6 bits (stored negated: one frame's samples).
_TOC_SAMPLES = tuple(
    _frame_samples(toc >> 3) * (1, 2, 2)[toc & 3] if toc & 3 != 3 else -_frame_samples(toc >> 3)
    for toc in range(256)
)
_MAX_PACKET_SAMPLES = 5_760  # 120 ms: longer packets are invalid and decode to nothing


def ogg_opus_seconds(data: bytes) -> float | None:
    """Seconds of Opus in a one-stream OGG file, counted packet by packet; None if the
    file is not that (another codec, several logical streams), for the general route."""
    if not data.startswith(_CAPTURE):
        return None
    size = len(data)
    serial: int | None = None
    pre_skip = 0
    headers_left = _HEADER_PACKETS
    samples = 0
    position = 0
    while position + _PAGE.size <= size:
        capture, _, flags, _, page_serial, _, _, segments = _PAGE.unpack_from(data, position)
        if capture != _CAPTURE:
            position = data.find(_CAPTURE, position + 1)  # lost sync: FFmpeg looks on
            if position < 0:
                break
            continue
        body = position + _PAGE.size
        lacing = data[body : body + segments]
        body += segments
        position = body + sum(lacing)
        if position > size:
            break  # a cut page: FFmpeg drops it too
        if serial is None:
            if not data.startswith(b"OpusHead", body) or position - body < 19:
                return None
            serial = page_serial
            pre_skip = int.from_bytes(data[body + 10 : body + 12], "little")
        elif page_serial != serial:
            return None  # chained or multiplexed: the general route decides
        counted, headers_left = _page_samples(
            data, body, lacing, bool(flags & _CONTINUED), headers_left
        )
        samples += counted
    if serial is None:
        return None
    return max(0, samples - pre_skip) / OPUS_RATE


def _page_samples(
    data: bytes, offset: int, lacing: bytes, in_packet: bool, headers_left: int
) -> tuple[int, int]:
    """48 kHz samples of the audio packets starting on one page (a packet continued from
    the page before was counted there), and the header packets still to skip."""
    samples = 0
    for lace in lacing:
        if not in_packet:  # a packet starts here
            if headers_left:
                headers_left -= 1
            elif lace:
                per_packet = _TOC_SAMPLES[data[offset]]
                if per_packet < 0:
                    frames = data[offset + 1] & 0x3F if lace > 1 else 0
                    per_packet = -per_packet * frames
                if per_packet <= _MAX_PACKET_SAMPLES:
                    samples += per_packet
            in_packet = True
        offset += lace
        if lace < 255:
            in_packet = False
    return samples, headers_left


def demuxed_seconds(container: InputContainer, stream: AudioStream) -> float | None:
    """Seconds of the stream's packets as demuxed, the first packets decoded until a frame
    comes out; None when some packet carries no duration (decode and count instead).
    Raises AudioUnreadable when no frame comes out."""
    total = 0
    decoded = False
    timed = True
    demuxed = 0
    try:
        for packet in container.demux(stream):
            if not packet.size:
                continue  # the demuxer's final empty packet
            demuxed += 1
            if not decoded:
                decoded = bool(stream.decode(packet))
            if packet.duration:
                total += packet.duration
            else:
                timed = False
        if not decoded and demuxed:
            decoded = bool(stream.decode(None))  # a decoder with delay: flush it
    except av.error.FFmpegError:
        if not decoded:
            raise
        # the file breaks off or is damaged further on: what came before is what is there
    if not decoded:
        raise AudioUnreadable("the file holds no decodable audio", transient=False)
    if not timed or stream.time_base is None:
        return None
    return float(total * Fraction(stream.time_base))
