"""The page check that lets a sound Opus voice note go to the recognizer untouched."""

from __future__ import annotations

import itertools
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.policies import STANDARD_OPUS, ChunkSpan
from infrastructure.audio import PyAvConverter
from infrastructure.audio._ogg_pages import _page_crc, is_whole_opus_stream
from tests.media_clips import SAMPLES

NOTE = (SAMPLES / "en-weather.ogg").read_bytes()


def page_starts(data: bytes) -> list[int]:
    starts, position = [], 0
    while position < len(data):
        starts.append(position)
        segments = data[position + 26]
        position += 27 + segments + sum(data[position + 27 : position + 27 + segments])
    return starts


def crc_by_the_book(page: bytes) -> int:
    """RFC 3533's CRC, bit by bit: polynomial 0x04C11DB7, MSB first, initial 0."""
    crc = 0
    for byte in page:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


def test_the_committed_voice_note_is_whole() -> None:
    assert is_whole_opus_stream(NOTE)


async def test_a_whole_voice_note_is_sent_as_it_came() -> None:
    assert await PyAvConverter().convert(NOTE, STANDARD_OPUS) == NOTE
    part = await PyAvConverter().convert(NOTE, STANDARD_OPUS, ChunkSpan(1.0, 4.0))
    assert part != NOTE and part.startswith(b"OggS"), "a span is still cut out"


@given(st.binary(min_size=0, max_size=3000))
@settings(max_examples=50)
def test_the_fast_crc_is_the_crc_of_the_standard(body: bytes) -> None:
    page = b"OggS" + bytes(18) + b"\x12\x34\x56\x78" + body
    zeroed = page[:22] + bytes(4) + page[26:]
    assert _page_crc(page, 0, len(page)) == crc_by_the_book(zeroed)


def test_every_page_of_the_sample_carries_the_crc_we_compute() -> None:
    starts = page_starts(NOTE)
    for start, end in itertools.pairwise([*starts, len(NOTE)]):
        assert _page_crc(NOTE, start, end) == struct.unpack_from("<I", NOTE, start + 22)[0]


@given(position=st.integers(0, len(NOTE) - 1), flip=st.integers(1, 255))
@settings(max_examples=300)
def test_any_damaged_byte_is_noticed(position: int, flip: int) -> None:
    damaged = bytearray(NOTE)
    damaged[position] ^= flip
    assert not is_whole_opus_stream(bytes(damaged))


@pytest.mark.parametrize("cut", [1, 27, 200, len(NOTE) // 2, len(NOTE) - 1])
def test_a_cut_file_is_not_whole(cut: int) -> None:
    assert not is_whole_opus_stream(NOTE[:cut])


def test_a_file_cut_at_a_page_boundary_is_not_whole_either() -> None:
    last = page_starts(NOTE)[-1]
    assert not is_whole_opus_stream(NOTE[:last]), "the end-of-stream page is missing"


def test_anything_after_the_last_page_or_a_second_stream_is_refused() -> None:
    assert not is_whole_opus_stream(NOTE + b"\0")
    assert not is_whole_opus_stream(NOTE + NOTE), "a chained second stream"
    assert not is_whole_opus_stream(b"")
