"""Every numeric decision about a voice note, as pure functions with the reference defaults.

How to encode the audio, whether to answer at once or queue, whether an LLM formats the
text, how many minutes it costs and where to cut long audio for recognition. Thresholds
come from ``TranscriptionPolicy`` so configuration can override each one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum

import attrs


class AudioEncoding(StrEnum):
    MP3 = "mp3"
    PCM_S16LE = "pcm_s16le"


@attrs.frozen
class AudioProfile:
    encoding: AudioEncoding
    sample_rate: int
    bitrate_kbps: int | None
    channels: int = 1

    @property
    def bytes_per_second(self) -> float:
        if self.bitrate_kbps is not None:
            return self.bitrate_kbps * 1000 / 8
        return self.sample_rate * self.channels * 2


SHORT_MP3 = AudioProfile(AudioEncoding.MP3, sample_rate=8_000, bitrate_kbps=24)
STANDARD_MP3 = AudioProfile(AudioEncoding.MP3, sample_rate=16_000, bitrate_kbps=32)
PCM_16K = AudioProfile(AudioEncoding.PCM_S16LE, sample_rate=16_000, bitrate_kbps=None)


class ProcessingMode(StrEnum):
    INLINE = "inline"
    QUEUED = "queued"


@attrs.frozen
class TranscriptionPolicy:
    """The thresholds of the reference configuration; each may be overridden."""

    format_word_threshold: int = attrs.field(default=150, validator=attrs.validators.ge(0))
    sync_threshold_seconds: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))
    short_audio_seconds: float = attrs.field(default=10.0, validator=attrs.validators.ge(0))
    max_chunk_seconds: float = attrs.field(default=150.0, validator=attrs.validators.gt(0))
    max_audio_seconds: float = attrs.field(default=4 * 3600.0, validator=attrs.validators.gt(0))


def select_profile(
    duration_seconds: float, encoding: AudioEncoding, short_audio_seconds: float = 10.0
) -> AudioProfile:
    """Smallest profile that recognizes well: 8 kHz for short clips, 16 kHz otherwise."""
    if encoding is AudioEncoding.PCM_S16LE:
        return PCM_16K
    return SHORT_MP3 if duration_seconds < short_audio_seconds else STANDARD_MP3


def processing_mode(
    duration_seconds: float, sync_threshold_seconds: float = 60.0
) -> ProcessingMode:
    if duration_seconds <= sync_threshold_seconds:
        return ProcessingMode.INLINE
    return ProcessingMode.QUEUED


def count_words(text: str) -> int:
    return len(text.split())


def needs_llm_formatting(text: str, word_threshold: int = 150) -> bool:
    """Short transcripts read fine as recognized; an LLM call would only add cost and delay."""
    return count_words(text) >= word_threshold


def price_minutes(duration_seconds: float) -> int:
    """Whole minutes started, at least one: ``ceil(duration / 60)``."""
    if not math.isfinite(duration_seconds) or duration_seconds < 0:
        raise ValueError(f"duration must be a finite non-negative number, got {duration_seconds}")
    return max(1, math.ceil(duration_seconds / 60))


@attrs.frozen
class ChunkSpan:
    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


@attrs.frozen
class EnergyEnvelope:
    """Loudness of the audio in fixed steps (e.g. RMS per 100 ms), as a converter measured it."""

    step_seconds: float
    values: Sequence[float]

    def quietest_between(self, start: float, end: float) -> float | None:
        """Time of the quietest step fully inside [start, end]; the latest wins a tie."""
        first = math.ceil(start / self.step_seconds)
        last = min(math.floor(end / self.step_seconds), len(self.values) - 1)
        if last < first:
            return None
        best = min(range(first, last + 1), key=lambda i: (self.values[i], -i))
        return best * self.step_seconds


def plan_chunks(
    duration_seconds: float,
    max_chunk_seconds: float,
    envelope: EnergyEnvelope | None = None,
    search_seconds: float = 10.0,
) -> tuple[ChunkSpan, ...]:
    """Cut ``[0, duration]`` into contiguous spans no longer than ``max_chunk_seconds``.

    Without an envelope the cuts fall every ``max_chunk_seconds``. With one, each cut moves
    back to the quietest point of the last ``search_seconds`` before the limit, so words
    are not split between two recognitions.
    """
    if max_chunk_seconds <= 0:
        raise ValueError("max_chunk_seconds must be positive")
    if duration_seconds <= 0:
        return ()
    window = min(search_seconds, max_chunk_seconds / 2)
    spans: list[ChunkSpan] = []
    start = 0.0
    while duration_seconds - start > max_chunk_seconds:
        limit = start + max_chunk_seconds
        cut = limit
        if envelope is not None:
            quiet = envelope.quietest_between(limit - window, limit)
            if quiet is not None and start < quiet <= limit:
                cut = quiet
        spans.append(ChunkSpan(start, cut))
        start = cut
    spans.append(ChunkSpan(start, duration_seconds))
    return tuple(spans)


def is_plausible_formatting(original: str, formatted: str, min_ratio: float = 0.4) -> bool:
    """A formatter's output much shorter than its input has lost or invented content."""
    kept = len(formatted.strip())
    return kept > 0 and kept >= min_ratio * len(original.strip())
