"""The probe measures the audio a file holds, not what its header or last page declares.

Files are crafted at test time from the committed voice note: an OGG/Opus note whose last
page (or every page) lies about its granule position, OGG with junk between its pages or
cut short, an MP3 cut short (its Xing header still declaring the whole) and one whose
Xing header declares a fraction of its frames. Each time the declared length (what PyAV
reports, and what the probe used to return) is shown to differ, so the test bites.
"""

from __future__ import annotations

import io
import struct

import av
import numpy as np
import pytest

from infrastructure.audio import PyAvConverter
from infrastructure.audio import pyav_converter as converter_module
from infrastructure.audio._measure import ogg_opus_seconds
from infrastructure.audio._ogg_pages import _page_crc
from tests.media_clips import SAMPLES, decode, encode

TOLERANCE = 0.1  # seconds: Opus pre-skip, MP3 encoder delay and padding
REPEATS = 4  # the 9.6 s note four times: 38 s of speech
_PAGE = struct.Struct("<4sBBqIIIB")


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return np.tile(decode((SAMPLES / "en-weather.ogg").read_bytes(), 48_000), REPEATS)


@pytest.fixture(scope="module")
def long_ogg(speech: np.ndarray) -> bytes:
    return encode(speech, 48_000, "ogg", "libopus")


@pytest.fixture(scope="module")
def long_mp3(speech: np.ndarray) -> bytes:
    return encode(speech, 48_000, "mp3", "libmp3lame")


def _pages(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every page."""
    pages, position = [], 0
    while position < len(data):
        segments = data[position + 26]
        body = position + 27 + segments
        end = body + sum(data[position + 27 : body])
        pages.append((position, end))
        position = end
    return pages


def _with_granule(data: bytes, page: tuple[int, int], granule: int) -> bytes:
    """The file with one page's granule position replaced and its CRC made right again."""
    start, end = page
    out = bytearray(data)
    struct.pack_into("<q", out, start + 6, granule)
    struct.pack_into("<I", out, start + 22, _page_crc(bytes(out), start, end))
    return bytes(out)


def _declared_seconds(data: bytes) -> float:
    with av.open(io.BytesIO(data)) as container:
        assert container.duration is not None
        return container.duration / av.time_base


def _decoded_seconds(data: bytes) -> float:
    return decode(data, 48_000).size / 48_000


async def _probed(data: bytes) -> float:
    return (await PyAvConverter().probe(data)).duration_seconds


async def test_an_ogg_whose_last_page_claims_5_s_is_measured_whole(
    long_ogg: bytes, speech: np.ndarray
) -> None:
    lying = _with_granule(long_ogg, _pages(long_ogg)[-1], 5 * 48_000 + 312)

    assert _declared_seconds(lying) == pytest.approx(5.0, abs=TOLERANCE)  # the lie bites
    assert await _probed(lying) == pytest.approx(speech.size / 48_000, abs=TOLERANCE)


async def test_an_ogg_whose_every_page_lies_is_measured_by_its_packets(
    long_ogg: bytes, speech: np.ndarray
) -> None:
    lying = long_ogg
    for number, page in enumerate(_pages(long_ogg)[2:]):
        lying = _with_granule(lying, page, number)  # one sample more per page

    assert await _probed(lying) == pytest.approx(speech.size / 48_000, abs=TOLERANCE)


async def test_junk_between_pages_hides_no_audio(long_ogg: bytes) -> None:
    pages = _pages(long_ogg)
    middle = pages[len(pages) // 2][0]
    junky = long_ogg[:middle] + b"\x00junk, not a page" * 50 + long_ogg[middle:]

    assert await _probed(junky) == pytest.approx(_decoded_seconds(junky), abs=TOLERANCE)
    assert await _probed(junky) == pytest.approx(await _probed(long_ogg), abs=TOLERANCE)


async def test_an_ogg_cut_short_is_measured_as_what_is_left(long_ogg: bytes) -> None:
    cut = long_ogg[: len(long_ogg) // 3 + 101]  # mid-page

    assert await _probed(cut) == pytest.approx(_decoded_seconds(cut), abs=TOLERANCE)
    assert await _probed(cut) < _declared_seconds(long_ogg) / 2


async def test_a_truncated_mp3_is_priced_by_what_is_left(
    long_mp3: bytes, speech: np.ndarray
) -> None:
    cut = long_mp3[: len(long_mp3) // 3]
    whole = speech.size / 48_000

    assert _declared_seconds(cut) == pytest.approx(whole, abs=TOLERANCE)  # the header's word
    assert await _probed(cut) == pytest.approx(_decoded_seconds(cut), abs=TOLERANCE)
    assert await _probed(cut) < whole / 2


async def test_an_mp3_whose_header_claims_5_s_is_measured_whole(
    long_mp3: bytes, speech: np.ndarray
) -> None:
    tag = max(long_mp3.find(b"Xing"), long_mp3.find(b"Info"))
    assert 0 < tag < 200
    (flags,) = struct.unpack_from(">I", long_mp3, tag + 4)
    assert flags & 1  # the frame count is there
    lying = bytearray(long_mp3)
    struct.pack_into(">I", lying, tag + 8, round(5 * 48_000 / 1152))

    assert _declared_seconds(bytes(lying)) == pytest.approx(5.0, abs=0.2)  # the lie bites
    assert await _probed(bytes(lying)) == pytest.approx(speech.size / 48_000, abs=TOLERANCE)


async def test_a_voice_note_is_measured_without_demuxing_or_decoding_it_all(
    long_ogg: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object) -> float:
        raise AssertionError("an OGG/Opus note must be counted from its pages")

    monkeypatch.setattr(converter_module, "demuxed_seconds", refuse)

    assert await _probed(long_ogg) == pytest.approx(_decoded_seconds(long_ogg), abs=TOLERANCE)


@pytest.mark.parametrize("kind", ["vorbis", "flac"])
def test_other_codecs_in_ogg_take_the_demuxing_route(speech: np.ndarray, kind: str) -> None:
    codec = {"vorbis": "libvorbis", "flac": "flac"}[kind]
    try:
        data = encode(speech[: 48_000 * 3], 48_000, "ogg", codec)
    except (av.error.FFmpegError, ValueError):
        pytest.skip(f"no {codec} encoder in this PyAV")

    assert ogg_opus_seconds(data) is None
