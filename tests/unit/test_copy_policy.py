"""When a source's packets may go to the recognizer as they are, and the Opus profiles."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from domain.policies import (
    COPY_CEILING_KBPS,
    PCM_16K,
    SHORT_MP3,
    SHORT_OPUS,
    STANDARD_MP3,
    STANDARD_OPUS,
    AudioEncoding,
    SourceAudio,
    may_copy_packets,
    select_profile,
)

codecs = st.sampled_from(["opus", "mp3", "aac", "vorbis", "flac", "pcm_s16le"])
bitrates = st.none() | st.floats(allow_nan=True, allow_infinity=True)
profiles = st.sampled_from([SHORT_OPUS, STANDARD_OPUS, SHORT_MP3, STANDARD_MP3, PCM_16K])


@given(codecs, st.integers(0, 8), bitrates, profiles)
def test_only_mono_opus_at_a_known_modest_bitrate_is_copied(
    codec: str, channels: int, bitrate: float | None, profile: object
) -> None:
    source = SourceAudio(codec, channels, bitrate)

    copied = may_copy_packets(source, profile)  # type: ignore[arg-type]

    expected = (
        profile in (SHORT_OPUS, STANDARD_OPUS)
        and codec == "opus"
        and channels == 1
        and bitrate is not None
        and math.isfinite(bitrate)
        and 0 < bitrate <= COPY_CEILING_KBPS
    )
    assert copied == expected


@given(st.floats(min_value=0.1, max_value=COPY_CEILING_KBPS * 4))
def test_the_ceiling_bounds_what_a_copied_request_weighs(bitrate: float) -> None:
    source = SourceAudio("opus", 1, bitrate)

    if may_copy_packets(source, STANDARD_OPUS):
        assert bitrate * 1000 / 8 * 280 <= 2 * 1024 * 1024  # a 280 s request under 2 MB


def test_a_telegram_voice_note_is_copied_and_a_stereo_or_rich_one_is_not() -> None:
    assert may_copy_packets(SourceAudio("opus", 1, 32.0), STANDARD_OPUS)
    assert not may_copy_packets(SourceAudio("opus", 2, 32.0), STANDARD_OPUS)
    assert not may_copy_packets(SourceAudio("opus", 1, 96.0), STANDARD_OPUS)
    assert not may_copy_packets(SourceAudio("opus", 1, None), STANDARD_OPUS)
    assert not may_copy_packets(SourceAudio("opus", 1, 32.0), STANDARD_MP3)


@given(st.floats(min_value=0, max_value=6 * 3600), st.floats(min_value=0.5, max_value=60))
def test_opus_profiles_split_at_the_short_audio_threshold(d: float, threshold: float) -> None:
    profile = select_profile(d, AudioEncoding.OPUS, threshold)

    assert profile == (SHORT_OPUS if d < threshold else STANDARD_OPUS)
    assert profile.bitrate_kbps is not None
    assert profile.bytes_per_second < STANDARD_MP3.bytes_per_second


def test_short_opus_is_lighter_than_standard() -> None:
    assert SHORT_OPUS.bitrate_kbps is not None and STANDARD_OPUS.bitrate_kbps is not None
    assert SHORT_OPUS.bitrate_kbps < STANDARD_OPUS.bitrate_kbps == 24
    assert SHORT_OPUS.encoding is STANDARD_OPUS.encoding is AudioEncoding.OPUS
