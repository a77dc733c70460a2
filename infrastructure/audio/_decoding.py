"""Streaming decode of the first audio stream to mono frames at a chosen rate.

Why this exists: probing, measuring loudness and encoding all start the same way (open
the bytes, find the audio stream, decode, resample to mono, optionally keep one time
span), and each must hold only a few frames in memory, not the whole decoded file. The
frames are passed on as FFmpeg made them; only the one or two frames at a span's edges
are cut, so no per-frame numpy work is done on the way to an encoder.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import av
import numpy as np
from av.audio.stream import AudioStream
from av.container import InputContainer

from application.errors import AudioUnreadable
from domain.policies import ChunkSpan

# Decoding starts this long before a span, so the decoder's pre-roll (Opus, the MP3 bit
# reservoir) is settled when the span begins; the surplus is trimmed by sample count.
SEEK_MARGIN_SECONDS = 1.0
# Resampled frames this long (the last one shorter, never padded): a 20 ms Opus frame is
# 320 samples at 16 kHz, and handling 9,000 of them per 3 min in Python cost 10 % of a
# PCM conversion (386 vs 334 ms with 4,096-sample frames).
RESAMPLED_FRAME_SAMPLES = 4096

# PyAV 18 decodes tags strictly unless told otherwise, so a file with a non-UTF-8 tag
# would not open; PyAV 19 dropped the option and always decodes them leniently. Any: which
# keywords ``av.open`` takes depends on the installed PyAV, and so do its type hints.
_OPEN_OPTIONS: dict[str, Any] = (
    {"metadata_errors": "replace"} if int(av.__version__.split(".")[0]) < 19 else {}
)

# A decoded frame and the part of it, [low, high) in samples, that lies inside the span.
Piece = tuple[av.AudioFrame, int, int]


class _CannotSeek(Exception):
    """The format refused the seek, or its frames carry no usable time afterwards."""


@contextmanager
def open_audio(data: bytes) -> Iterator[tuple[InputContainer, AudioStream]]:
    """The container and its first audio stream. Raises AudioUnreadable."""
    if not data:
        raise AudioUnreadable("the file is empty", transient=False)
    container = av.open(io.BytesIO(data), mode="r", **_OPEN_OPTIONS)
    try:
        if not container.streams.audio:
            raise AudioUnreadable("the file has no audio track", transient=False)
        stream = container.streams.audio[0]
        yield container, stream
    finally:
        container.close()


def decode_pieces(
    data: bytes, rate: int, sample_format: str, span: ChunkSpan | None = None
) -> Iterator[Piece]:
    """Packed mono frames at ``rate`` in ``sample_format`` (``"s16"``, ``"flt"``), each with
    the range of its samples inside ``span`` (all of them without a span).

    The decoder seeks shortly before the span's start where the format allows. Raises
    AudioUnreadable when nothing at all can be decoded.
    """
    if span is not None and span.start > SEEK_MARGIN_SECONDS:
        try:
            yield from _decode(data, rate, sample_format, span, seek=True)
            return
        except _CannotSeek:
            pass  # nothing was yielded yet: decode from the beginning instead
    yield from _decode(data, rate, sample_format, span, seek=False)


def pcm_bytes(pieces: Iterator[Piece]) -> Iterator[memoryview]:
    """The samples of s16 pieces as little-endian bytes, straight from the frames' planes."""
    for frame, low, high in pieces:
        yield memoryview(frame.planes[0])[low * 2 : high * 2]


def whole_frames(pieces: Iterator[Piece], sample_format: str, rate: int) -> Iterator[av.AudioFrame]:
    """Frames for an encoder: passed through, except the span's edges, cut to size."""
    for frame, low, high in pieces:
        if low == 0 and high == frame.samples:
            frame.pts = None
            yield frame
            continue
        part = frame.to_ndarray()[:, low:high]
        edge = av.AudioFrame.from_ndarray(part, format=sample_format, layout="mono")
        edge.sample_rate = rate
        yield edge


def sample_arrays(pieces: Iterator[Piece]) -> Iterator[np.ndarray]:
    """The pieces as 1-D numpy arrays (for measuring loudness)."""
    for frame, low, high in pieces:
        yield frame.to_ndarray().reshape(-1)[low:high]


def _decode(
    data: bytes, rate: int, sample_format: str, span: ChunkSpan | None, *, seek: bool
) -> Iterator[Piece]:
    first = 0 if span is None else round(span.start * rate)
    stop = None if span is None else round(span.end * rate)
    resampler = av.AudioResampler(
        format=sample_format, layout="mono", rate=rate, frame_size=RESAMPLED_FRAME_SAMPLES
    )
    with open_audio(data) as (container, stream):
        origin = _start_time(stream)
        if seek and span is not None:
            target = span.start - SEEK_MARGIN_SECONDS + origin
            try:
                container.seek(int(target * av.time_base), backward=True)
            except av.error.FFmpegError as exc:
                raise _CannotSeek from exc
        position: int | None = None  # index (at ``rate``) of the next resampled sample
        for frame in container.decode(stream):
            if position is None:
                position = _first_position(frame.time, origin, rate, seek=seek)
                if position > first:
                    raise _CannotSeek  # landed after the span's start
            for out in resampler.resample(frame):
                piece = _inside(out, position, first, stop)
                position += out.samples
                if piece is not None:
                    yield piece
            if stop is not None and position >= stop:
                return
        if position is None:
            raise AudioUnreadable("the file holds no decodable audio", transient=False)
        for out in resampler.resample(None):
            piece = _inside(out, position, first, stop)
            position += out.samples
            if piece is not None:
                yield piece


def _start_time(stream: AudioStream) -> float:
    if stream.start_time is None or stream.time_base is None:
        return 0.0
    return float(stream.start_time * stream.time_base)


def _first_position(time: float | None, origin: float, rate: int, *, seek: bool) -> int:
    if not seek:
        return 0
    if time is None:
        raise _CannotSeek
    return max(0, round((time - origin) * rate))


def _inside(frame: av.AudioFrame, position: int, first: int, stop: int | None) -> Piece | None:
    low = max(first - position, 0)
    high = frame.samples if stop is None else min(stop - position, frame.samples)
    return (frame, low, high) if high > low else None
