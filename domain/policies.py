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
    OPUS = "opus"  # in an OGG container, as Telegram's voice notes
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
# Opus is built for speech: at 24 kbit/s wideband it carries what 32 kbit/s MP3 does, and a
# voice note that already is Opus can often be sent as it is (``may_copy_packets``).
SHORT_OPUS = AudioProfile(AudioEncoding.OPUS, sample_rate=16_000, bitrate_kbps=16)
STANDARD_OPUS = AudioProfile(AudioEncoding.OPUS, sample_rate=16_000, bitrate_kbps=24)
# Copying a source's packets is allowed up to this bitrate: a 280 s request stays ~1.7 MB.
COPY_CEILING_KBPS = 48.0


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
    """Smallest profile that recognizes well: lighter for short clips, 16 kHz otherwise."""
    if encoding is AudioEncoding.PCM_S16LE:
        return PCM_16K
    short = duration_seconds < short_audio_seconds
    if encoding is AudioEncoding.OPUS:
        return SHORT_OPUS if short else STANDARD_OPUS
    return SHORT_MP3 if short else STANDARD_MP3


@attrs.frozen
class SourceAudio:
    """What a converter found in the file it was given, before decoding anything."""

    codec: str  # FFmpeg's codec name: "opus", "mp3", "aac", ...
    channels: int
    bitrate_kbps: float | None  # None: the file does not say and it cannot be worked out


def may_copy_packets(
    source: SourceAudio, profile: AudioProfile, ceiling_kbps: float = COPY_CEILING_KBPS
) -> bool:
    """Whether the source's compressed packets may be sent as they are, not re-encoded.

    Only the same codec, in mono, at a known bitrate no higher than the ceiling: copying
    is lossless and costs no CPU, but must never make a request heavier than a sane one
    (a stereo or high-bitrate source is re-encoded down to the profile instead).
    """
    if profile.encoding is not AudioEncoding.OPUS or source.codec != "opus":
        return False
    if source.channels != 1 or source.bitrate_kbps is None:
        return False
    return math.isfinite(source.bitrate_kbps) and 0 < source.bitrate_kbps <= ceiling_kbps


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


# Codecs pad the end of a stream to a whole frame and decoders may keep encoder priming
# (Opus: up to 60 ms frames, MP3: 1152 samples; a 30:00 voice note measures 30:00.013).
# A minute is started only by more than this past a whole minute: padding never costs one.
PADDING_TOLERANCE_SECONDS = 0.05


def price_minutes(duration_seconds: float) -> int:
    """Whole minutes started, at least one: ``ceil(duration / 60)``, where a minute counts
    as started only when the audio runs more than ``PADDING_TOLERANCE_SECONDS`` into it."""
    if not math.isfinite(duration_seconds) or duration_seconds < 0:
        raise ValueError(f"duration must be a finite non-negative number, got {duration_seconds}")
    whole = math.floor(duration_seconds / 60)
    started = duration_seconds > whole * 60 + PADDING_TOLERANCE_SECONDS
    return max(1, whole + int(started))


@attrs.frozen
class ChunkSpan:
    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


def steps_between(start: float, end: float, step_seconds: float) -> range:
    """Indices of the steps (of ``step_seconds``, counted from 0 s) starting in [start, end]."""
    return range(max(0, math.ceil(start / step_seconds)), math.floor(end / step_seconds) + 1)


@attrs.frozen
class EnergyEnvelope:
    """Loudness of the audio in fixed steps (e.g. RMS per 100 ms), as a converter measured it.

    ``values[j]`` is the loudness of step ``first_step + j``, i.e. of the audio from
    ``(first_step + j) * step_seconds`` on: a whole file starts at step 0, a measured
    window of it at the first step of that window.
    """

    step_seconds: float
    values: Sequence[float]
    first_step: int = 0

    def quietest_between(self, start: float, end: float) -> float | None:
        """Start time of the quietest known step starting in [start, end]; the latest wins
        a tie."""
        wanted = steps_between(start, end, self.step_seconds)
        first = max(wanted.start, self.first_step)
        last = min(wanted.stop - 1, self.first_step + len(self.values) - 1)
        if last < first:
            return None
        best = min(range(first, last + 1), key=lambda i: (self.values[i - self.first_step], -i))
        return best * self.step_seconds


def search_window(
    start: float, duration_seconds: float, max_chunk_seconds: float, search_seconds: float = 10.0
) -> ChunkSpan | None:
    """Where the cut after ``start`` may fall: the last ``search_seconds`` before the limit
    (at most half a chunk). ``None`` when the rest of the audio fits in one chunk.

    Only this window's loudness is needed to place the next cut, so long audio can be cut
    one chunk at a time while earlier chunks are already being recognized.
    """
    if max_chunk_seconds <= 0:
        raise ValueError("max_chunk_seconds must be positive")
    if duration_seconds - start <= max_chunk_seconds:
        return None
    limit = start + max_chunk_seconds
    return ChunkSpan(limit - min(search_seconds, max_chunk_seconds / 2), limit)


def next_cut(
    start: float,
    duration_seconds: float,
    max_chunk_seconds: float,
    envelope: EnergyEnvelope | None = None,
    search_seconds: float = 10.0,
) -> float:
    """End of the chunk beginning at ``start``: the quietest point of its search window
    (``envelope`` need only cover that window), else the limit; the end of the audio when
    the rest fits in one chunk."""
    window = search_window(start, duration_seconds, max_chunk_seconds, search_seconds)
    if window is None:
        return duration_seconds
    if envelope is not None:
        quiet = envelope.quietest_between(window.start, window.end)
        if quiet is not None and start < quiet <= window.end:
            return quiet
    return window.end


def plan_chunks(
    duration_seconds: float,
    max_chunk_seconds: float,
    envelope: EnergyEnvelope | None = None,
    search_seconds: float = 10.0,
) -> tuple[ChunkSpan, ...]:
    """Cut ``[0, duration]`` into contiguous spans no longer than ``max_chunk_seconds``.

    Without an envelope the cuts fall every ``max_chunk_seconds``. With one, each cut moves
    back to the quietest point of the last ``search_seconds`` before the limit, so words
    are not split between two recognitions. (``next_cut`` folded from 0 s.)
    """
    if max_chunk_seconds <= 0:
        raise ValueError("max_chunk_seconds must be positive")
    if duration_seconds <= 0:
        return ()
    spans: list[ChunkSpan] = []
    start = 0.0
    while start < duration_seconds:
        cut = next_cut(start, duration_seconds, max_chunk_seconds, envelope, search_seconds)
        spans.append(ChunkSpan(start, cut))
        start = cut
    return tuple(spans)


def is_plausible_formatting(original: str, formatted: str, min_ratio: float = 0.4) -> bool:
    """A formatter's output much shorter than its input has lost or invented content."""
    kept = len(formatted.strip())
    return kept > 0 and kept >= min_ratio * len(original.strip())


# No audio a user sends is denser than this (320 kbit/s MP3; a voice note is ~2 kB/s): a
# file's size divided by it is the least its audio can last.
DENSEST_AUDIO_BYTES_PER_SECOND = 40_000
# Metadata may refuse a file only when it claims this many times the limit.
FAR_BEYOND_LIMIT = 2.0


def too_long_unmeasured(
    declared_seconds: float | None, size_bytes: int | None, max_audio_seconds: float
) -> bool:
    """Whether a file may be refused as too long without downloading and measuring it.

    Telegram's ``duration`` is what the sender's client claims (a 30 s file can say
    20,000 s), so the length is decided by measurement. Metadata alone refuses only when
    the claim is far beyond the limit AND the size agrees: even at the densest audio the
    bytes could not last less than the limit. Anything else is measured first.
    """
    if declared_seconds is None or size_bytes is None or size_bytes <= 0:
        return False
    if (
        not math.isfinite(declared_seconds)
        or declared_seconds <= FAR_BEYOND_LIMIT * max_audio_seconds
    ):
        return False
    return size_bytes / DENSEST_AUDIO_BYTES_PER_SECOND > max_audio_seconds
