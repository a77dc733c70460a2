"""PyAvConverter to OGG/Opus: packets copied from a mono Opus voice note, re-encoded from
anything else, spans within a frame of their bounds, hostile input refused clearly."""

from __future__ import annotations

import io
import itertools

import av
import numpy as np
import pytest

from application.errors import AudioUnreadable
from domain.policies import SHORT_OPUS, STANDARD_OPUS, ChunkSpan
from infrastructure.audio import PyAvConverter
from infrastructure.audio._opus import OPUS_RATE
from tests.media_clips import SAMPLES, decode, encode

FRAME = 0.02  # the sample's Opus frames
FORTY_SECONDS = 40.0


@pytest.fixture(scope="module")
def voice_note() -> bytes:
    return (SAMPLES / "en-weather.ogg").read_bytes()


@pytest.fixture(scope="module")
def long_note(voice_note: bytes) -> bytes:
    """40 s of the sample as a mono 32 kbit/s Opus voice note (pages to seek between)."""
    speech = decode(voice_note, OPUS_RATE)
    repeated = np.tile(speech, int(FORTY_SECONDS / (speech.size / OPUS_RATE)) + 1)
    return _opus(repeated[: int(FORTY_SECONDS * OPUS_RATE)], bitrate=32_000)


def _opus(samples: np.ndarray, *, bitrate: int, layout: str = "mono", fmt: str = "ogg") -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=fmt) as output:
        stream = output.add_stream("libopus", rate=OPUS_RATE, layout=layout)
        stream.bit_rate = bitrate
        planes = np.repeat(samples.reshape(1, -1), 2 if layout == "stereo" else 1, axis=0)
        frame = av.AudioFrame.from_ndarray(planes.astype(np.float32), format="fltp", layout=layout)
        frame.sample_rate = OPUS_RATE
        frame.pts = 0
        output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()


def _packets(data: bytes) -> list[bytes]:
    with av.open(io.BytesIO(data)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def _head(data: bytes) -> tuple[int, int]:
    """Channels and input sample rate from the OpusHead."""
    with av.open(io.BytesIO(data)) as container:
        head = bytes(container.streams.audio[0].codec_context.extradata)
    return head[9], int.from_bytes(head[12:16], "little")


@pytest.fixture
def converter() -> PyAvConverter:
    return PyAvConverter()


async def test_a_mono_opus_voice_note_is_copied_packet_for_packet(
    converter: PyAvConverter, voice_note: bytes
) -> None:
    ogg = await converter.convert(voice_note, STANDARD_OPUS)

    assert ogg.startswith(b"OggS")
    assert _packets(ogg) == _packets(voice_note)
    assert decode(ogg, 16_000).size == decode(voice_note, 16_000).size


@pytest.mark.parametrize(
    "span",
    [ChunkSpan(0.0, 12.5), ChunkSpan(3.0, 17.21), ChunkSpan(12.34, 29.9), ChunkSpan(30.0, 40.0)],
)
async def test_a_copied_span_starts_and_ends_within_a_frame_of_it(
    converter: PyAvConverter, long_note: bytes, span: ChunkSpan
) -> None:
    rate = OPUS_RATE
    full = decode(long_note, rate)

    part = decode(await converter.convert(long_note, STANDARD_OPUS, span), rate)

    # The copy starts at the frame holding span.start: find where it lines up with the whole.
    candidates = range(max(0, round((span.start - FRAME) * rate)), round(span.start * rate) + 1)
    probe = part[rate // 2 : rate]  # half a second, clear of the decoder's pre-roll
    offset = max(candidates, key=lambda c: float(np.dot(probe, full[c + rate // 2 : c + rate])))
    assert span.start - FRAME <= offset / rate <= span.start
    end = (offset + part.size) / rate
    assert min(span.end, FORTY_SECONDS) <= end + 1e-3 <= span.end + FRAME + 0.01
    same = full[offset + rate // 10 : offset + part.size]
    assert np.corrcoef(part[rate // 10 :][: same.size], same)[0, 1] > 0.99


async def test_copied_spans_of_a_long_note_cover_it_without_loss(
    converter: PyAvConverter, long_note: bytes
) -> None:
    cuts = [0.0, 9.7, 19.33, 31.0, FORTY_SECONDS]
    parts = [
        await converter.convert(long_note, STANDARD_OPUS, ChunkSpan(a, b))
        for a, b in itertools.pairwise(cuts)
    ]

    lengths = [decode(p, OPUS_RATE).size / OPUS_RATE for p in parts]
    assert sum(lengths) == pytest.approx(FORTY_SECONDS, abs=len(parts) * FRAME)
    assert all(p.startswith(b"OggS") for p in parts)


async def test_stereo_opus_is_re_encoded_to_mono(
    converter: PyAvConverter, voice_note: bytes
) -> None:
    stereo = _opus(decode(voice_note, OPUS_RATE), bitrate=32_000, layout="stereo")

    ogg = await converter.convert(stereo, STANDARD_OPUS)

    assert _head(ogg) == (1, STANDARD_OPUS.sample_rate)
    assert decode(ogg, 16_000).size / 16_000 == pytest.approx(9.56, abs=0.05)


async def test_opus_above_the_copy_ceiling_is_re_encoded_at_the_profile_bitrate(
    converter: PyAvConverter, long_note: bytes
) -> None:
    rich = _opus(decode(long_note, OPUS_RATE), bitrate=96_000)

    ogg = await converter.convert(rich, STANDARD_OPUS, ChunkSpan(5.0, 35.0))

    assert _head(ogg) == (1, STANDARD_OPUS.sample_rate)
    assert len(ogg) * 8 / 30.0 < 30_000 < len(rich) * 8 / FORTY_SECONDS
    assert decode(ogg, 16_000).size / 16_000 == pytest.approx(30.0, abs=0.01)


async def test_opus_in_webm_is_re_encoded(converter: PyAvConverter, voice_note: bytes) -> None:
    webm = _opus(decode(voice_note, OPUS_RATE), bitrate=32_000, fmt="webm")

    ogg = await converter.convert(webm, SHORT_OPUS)

    assert ogg.startswith(b"OggS")
    assert _head(ogg) == (1, SHORT_OPUS.sample_rate)


async def test_other_formats_are_encoded_to_opus_of_their_length(
    converter: PyAvConverter, voice_note: bytes
) -> None:
    wav = encode(decode(voice_note, 44_100), 44_100, "wav", "pcm_s16le")

    ogg = await converter.convert(wav, STANDARD_OPUS, ChunkSpan(1.0, 6.0))

    assert ogg.startswith(b"OggS")
    assert decode(ogg, 16_000).size == pytest.approx(5 * 16_000, abs=16)


async def test_a_half_file_copies_exactly_what_probe_says_is_there(
    converter: PyAvConverter, long_note: bytes
) -> None:
    half = long_note[: len(long_note) // 2]
    probed = (await converter.probe(half)).duration_seconds

    ogg = await converter.convert(half, STANDARD_OPUS)

    assert decode(ogg, OPUS_RATE).size / OPUS_RATE == pytest.approx(probed, abs=2 * FRAME)


async def test_a_damaged_page_is_not_copied_over_silently(
    converter: PyAvConverter, long_note: bytes
) -> None:
    middle = long_note.index(b"OggS", len(long_note) // 2)
    damaged = bytearray(long_note)
    damaged[middle + 40 : middle + 60] = bytes(20)  # the page's CRC no longer matches

    ogg = await converter.convert(bytes(damaged), STANDARD_OPUS)

    assert _head(ogg) == (1, STANDARD_OPUS.sample_rate), "re-encoded from what decodes"
    assert decode(ogg, 16_000).size / 16_000 > FORTY_SECONDS - 2


HOSTILE = {
    "empty": b"",
    "magic only": b"OggS" + bytes(60),
    "header pages only": None,  # filled from the sample below
    "random after magic": b"OggS" + np.random.default_rng(3).bytes(5000),
}


@pytest.mark.parametrize("name", HOSTILE)
async def test_hostile_input_is_unreadable_audio(
    converter: PyAvConverter, voice_note: bytes, name: str
) -> None:
    data = HOSTILE[name] if HOSTILE[name] is not None else voice_note[:200]

    with pytest.raises(AudioUnreadable) as caught:
        await converter.convert(data, STANDARD_OPUS)
    with pytest.raises(AudioUnreadable):
        await converter.convert(data, STANDARD_OPUS, ChunkSpan(2.0, 3.0))

    assert caught.value.transient is False


async def test_a_span_past_the_end_is_unreadable(
    converter: PyAvConverter, voice_note: bytes
) -> None:
    with pytest.raises(AudioUnreadable, match="no audio"):
        await converter.convert(voice_note, STANDARD_OPUS, ChunkSpan(50.0, 60.0))
