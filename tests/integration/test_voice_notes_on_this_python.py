"""A real voice note probed and converted with the PyAV this Python resolves to.

Why this exists: the newest PyAV that pip picks differs by Python (on 3.11 av 18, on
3.12 and 3.13 av 19, whose ``av.open`` no longer takes ``metadata_errors``: every note
was "not a readable audio or video file" there, and nothing here ran on those versions).
``make test`` runs this file on every supported Python that is installed (each in its
own virtual environment), so a dependency that breaks on one of them fails here.
"""

from __future__ import annotations

import struct
import sys

import av
import pytest

from domain.policies import PCM_16K, STANDARD_MP3, STANDARD_OPUS, AudioProfile
from infrastructure.audio import PyAvConverter
from tests.media_clips import SAMPLES, decode, encode

NOTES = {path.stem: path.read_bytes() for path in sorted(SAMPLES.glob("*.ogg"))}
TOLERANCE_SECONDS = 0.1


def test_this_python_is_a_supported_one() -> None:
    assert (3, 11) <= sys.version_info[:2] <= (3, 13), sys.version


@pytest.mark.parametrize("note", NOTES)
async def test_a_voice_note_is_probed_to_its_decoded_length(note: str) -> None:
    data = NOTES[note]

    probed = await PyAvConverter().probe(data)

    assert probed.has_audio
    decoded = decode(data, 16_000).size / 16_000
    assert probed.duration_seconds == pytest.approx(decoded, abs=TOLERANCE_SECONDS), av.__version__


@pytest.mark.parametrize("profile", [STANDARD_OPUS, STANDARD_MP3, PCM_16K], ids=str)
async def test_a_voice_note_is_converted_for_the_recognizer(profile: AudioProfile) -> None:
    data = NOTES["en-weather"]
    seconds = decode(data, 16_000).size / 16_000

    converted = await PyAvConverter().convert(data, profile)

    if profile == PCM_16K:
        assert len(converted) / 2 / 16_000 == pytest.approx(seconds, abs=TOLERANCE_SECONDS)
    else:
        length = decode(converted, 16_000).size / 16_000
        assert length == pytest.approx(seconds, abs=TOLERANCE_SECONDS), av.__version__


async def test_a_file_whose_tags_are_not_utf8_is_still_read() -> None:
    """FFmpeg passes a WAV's INFO text through as bytes: PyAV 18 fails such a file unless
    told to replace, PyAV 19 always decodes tags leniently. Either way it is audio."""
    speech = decode(NOTES["ru-greeting"], 16_000)
    wav = bytearray(encode(speech, 16_000, "wav", "pcm_s16le"))
    text = b"Caf\xe9 \xff\x00"  # Latin-1, not UTF-8
    info = b"INFO" + b"INAM" + struct.pack("<I", len(text)) + text
    wav += b"LIST" + struct.pack("<I", len(info)) + info
    struct.pack_into("<I", wav, 4, len(wav) - 8)

    probed = await PyAvConverter().probe(bytes(wav))

    assert probed.duration_seconds == pytest.approx(speech.size / 16_000, abs=0.01)
