"""PyAvConverter on real media: the formats the bot must accept, spans, loudness, bad input.

The clips are made at test time from the committed OGG voice note (no binary bloat):
MP3 (stereo, 44.1 kHz), WAV, M4A (AAC), an MP4 video with a tiny picture stream, and an
MP4 video without any audio.
"""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from application.errors import AudioUnreadable
from domain.policies import PCM_16K, SHORT_MP3, STANDARD_MP3, AudioProfile, ChunkSpan
from infrastructure.audio import PyAvConverter
from tests.media_clips import SAMPLES, decode, encode, make_clips

DURATION_TOLERANCE = 0.1  # seconds; AAC priming and MP3 padding stay well below this
PCM_TOLERANCE = 0.05


@pytest.fixture(scope="module")
def voice_note() -> bytes:
    return (SAMPLES / "en-weather.ogg").read_bytes()


@pytest.fixture(scope="module")
def speech_seconds(voice_note: bytes) -> float:
    return decode(voice_note, 16_000).size / 16_000


@pytest.fixture(scope="module")
def clips(voice_note: bytes) -> dict[str, bytes]:
    return make_clips(voice_note)


@pytest.fixture
def converter() -> PyAvConverter:
    return PyAvConverter()


FORMATS = ["ogg", "mp3", "wav", "m4a", "mp4"]


@pytest.mark.parametrize("kind", FORMATS)
async def test_probe_reads_the_duration(
    converter: PyAvConverter, clips: dict[str, bytes], speech_seconds: float, kind: str
) -> None:
    probed = await converter.probe(clips[kind])

    assert probed.has_audio
    assert probed.duration_seconds == pytest.approx(speech_seconds, abs=DURATION_TOLERANCE)


@pytest.mark.parametrize("profile", [SHORT_MP3, STANDARD_MP3], ids=["short", "standard"])
@pytest.mark.parametrize("kind", FORMATS)
async def test_convert_to_mp3_gives_a_valid_mono_mp3(
    converter: PyAvConverter,
    clips: dict[str, bytes],
    speech_seconds: float,
    kind: str,
    profile: AudioProfile,
) -> None:
    mp3 = await converter.convert(clips[kind], profile)

    with av.open(io.BytesIO(mp3)) as container:
        assert container.format.name == "mp3"
        stream = container.streams.audio[0]
        assert stream.codec_context.name.startswith("mp3")  # the decoder is "mp3float"
        assert stream.rate == profile.sample_rate
        assert stream.channels == 1
        assert container.duration is not None
        assert container.duration / av.time_base == pytest.approx(
            speech_seconds, abs=DURATION_TOLERANCE
        )
    assert len(mp3) == pytest.approx(profile.bytes_per_second * speech_seconds, rel=0.15)
    assert decode(mp3, profile.sample_rate).size / profile.sample_rate == pytest.approx(
        speech_seconds, abs=DURATION_TOLERANCE
    )


@pytest.mark.parametrize("kind", FORMATS)
async def test_convert_to_pcm_gives_16_bit_mono_at_16_khz(
    converter: PyAvConverter, clips: dict[str, bytes], speech_seconds: float, kind: str
) -> None:
    pcm = await converter.convert(clips[kind], PCM_16K)

    assert len(pcm) % 2 == 0
    assert len(pcm) / (16_000 * 2) == pytest.approx(speech_seconds, abs=PCM_TOLERANCE)


@pytest.mark.parametrize("kind", FORMATS)
@pytest.mark.parametrize("span", [ChunkSpan(0.5, 2.0), ChunkSpan(3.0, 6.0), ChunkSpan(8.0, 20.0)])
async def test_a_span_is_exactly_that_part_of_the_audio(
    converter: PyAvConverter,
    clips: dict[str, bytes],
    speech_seconds: float,
    kind: str,
    span: ChunkSpan,
) -> None:
    full = np.frombuffer(await converter.convert(clips[kind], PCM_16K), dtype="<i2")
    part = np.frombuffer(await converter.convert(clips[kind], PCM_16K, span), dtype="<i2")

    expected = full[round(span.start * 16_000) : round(span.end * 16_000)]
    assert abs(part.size - expected.size) <= 16  # 1 ms
    length = min(part.size, expected.size)
    correlation = np.corrcoef(part[:length].astype(float), expected[:length].astype(float))[0, 1]
    assert correlation > 0.98  # same samples, not merely the same length


async def test_a_span_encodes_to_mp3_of_its_length(
    converter: PyAvConverter, clips: dict[str, bytes]
) -> None:
    mp3 = await converter.convert(clips["ogg"], STANDARD_MP3, ChunkSpan(2.0, 7.0))

    probed = await converter.probe(mp3)
    assert probed.duration_seconds == pytest.approx(5.0, abs=DURATION_TOLERANCE)


async def test_envelope_shows_the_pauses_quieter_than_the_speech(
    converter: PyAvConverter, clips: dict[str, bytes], speech_seconds: float
) -> None:
    # The voice note starts with 0.4 s and ends with 0.6 s of silence.
    envelope = await converter.envelope(clips["ogg"], 0.1)

    assert envelope.step_seconds == 0.1
    assert len(envelope.values) == pytest.approx(speech_seconds / 0.1, abs=1)
    loudest = max(envelope.values)
    assert loudest > 0.05
    assert max(envelope.values[:3]) < loudest / 20
    assert max(envelope.values[-4:]) < loudest / 20
    quiet = envelope.quietest_between(0.0, speech_seconds)
    assert quiet is not None
    assert quiet < 0.4 or quiet > speech_seconds - 0.6


async def test_stereo_input_is_mixed_down_to_mono(
    converter: PyAvConverter, clips: dict[str, bytes]
) -> None:
    pcm = await converter.convert(clips["mp3"], PCM_16K)

    ogg = np.frombuffer(await converter.convert(clips["ogg"], PCM_16K), dtype="<i2")
    mono = np.frombuffer(pcm, dtype="<i2")
    assert np.abs(mono.astype(float)).max() == pytest.approx(
        np.abs(ogg.astype(float)).max(), rel=0.2
    )


def _truncated_ogg() -> bytes:
    return (SAMPLES / "en-weather.ogg").read_bytes()[:200]


BAD_INPUT = {
    "empty": b"",
    "random bytes": np.random.default_rng(7).bytes(50_000),
    "text": b"this is not audio\n" * 100,
    "truncated ogg": _truncated_ogg(),
}


@pytest.mark.parametrize("data", BAD_INPUT.values(), ids=BAD_INPUT.keys())
async def test_unreadable_input_is_reported_as_such(converter: PyAvConverter, data: bytes) -> None:
    with pytest.raises(AudioUnreadable):
        await converter.probe(data)
    with pytest.raises(AudioUnreadable):
        await converter.convert(data, SHORT_MP3)
    with pytest.raises(AudioUnreadable):
        await converter.convert(data, PCM_16K, ChunkSpan(2.0, 3.0))
    with pytest.raises(AudioUnreadable):
        await converter.envelope(data, 0.1)


async def test_a_truncated_m4a_is_unreadable(
    converter: PyAvConverter, clips: dict[str, bytes]
) -> None:
    m4a = clips["m4a"]  # the index (moov) is at the end: half a file has none

    with pytest.raises(AudioUnreadable):
        await converter.convert(m4a[: len(m4a) // 2], PCM_16K)


async def test_a_video_without_audio_is_unreadable(converter: PyAvConverter) -> None:
    silent_video = encode(np.zeros(16_000, dtype=np.float32), 16_000, "mp4", None, video=True)

    with pytest.raises(AudioUnreadable, match="no audio"):
        await converter.probe(silent_video)
    with pytest.raises(AudioUnreadable, match="no audio"):
        await converter.convert(silent_video, STANDARD_MP3)


async def test_errors_are_permanent_and_hide_pyav(converter: PyAvConverter) -> None:
    with pytest.raises(AudioUnreadable) as caught:
        await converter.convert(BAD_INPUT["random bytes"], PCM_16K)

    assert caught.value.transient is False
    assert "av." not in str(caught.value)
