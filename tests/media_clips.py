"""Media clips made at test time from the committed sample voice note.

Every format the bot must accept (MP3, WAV, M4A, MP4 video, and a video with no audio)
is encoded with PyAV from ``samples/en-weather.ogg``, so no binary test media is committed.
"""

from __future__ import annotations

import functools
import io
import itertools
import math
import random
from pathlib import Path

import av
import numpy as np

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def decode(data: bytes, rate: int) -> np.ndarray:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    chunks: list[np.ndarray] = []
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(audio=0):
            chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(frame))
    chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    return np.concatenate(chunks)


def encode(
    samples: np.ndarray,
    rate: int,
    container_format: str,
    codec: str | None,
    *,
    layout: str = "mono",
    video: bool = False,
) -> bytes:
    """A clip in any container: optional audio (``codec``) and an optional 64x64 video."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container_format) as output:
        picture = output.add_stream("mpeg4", rate=10) if video else None
        sound = output.add_stream(codec, rate=rate, layout=layout) if codec else None
        if picture is not None:
            picture.width = picture.height = 64
            picture.pix_fmt = "yuv420p"
            for index in range(int(samples.size / rate * 10) + 1):
                image = np.full((64, 64, 3), index * 7 % 256, dtype=np.uint8)
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts = index
                output.mux(picture.encode(frame))
            output.mux(picture.encode(None))
        if sound is not None:
            planes = np.repeat(samples.reshape(1, -1), 2 if layout == "stereo" else 1, axis=0)
            audio = av.AudioFrame.from_ndarray(planes, format="fltp", layout=layout)
            audio.sample_rate = rate
            audio.pts = 0
            output.mux(sound.encode(audio))
            output.mux(sound.encode(None))
    return buffer.getvalue()


def make_clips(voice_note: bytes) -> dict[str, bytes]:
    """The voice note in each container the CLI and the bot accept."""
    speech = decode(voice_note, 44_100)
    return {
        "ogg": voice_note,
        "mp3": encode(speech, 44_100, "mp3", "libmp3lame", layout="stereo"),
        "wav": encode(speech, 44_100, "wav", "pcm_s16le"),
        "m4a": encode(speech, 44_100, "ipod", "aac"),
        "mp4": encode(speech, 44_100, "mp4", "aac", video=True),
    }


def silence(seconds: float = 3.0, rate: int = 48_000) -> bytes:
    """An OGG/Opus voice note with nothing said in it."""
    return encode(np.zeros(int(seconds * rate), dtype=np.float32), rate, "ogg", "libopus")


LONG_NOTE_SECONDS = 140.0  # one recognition request on every profile (chunks of 150 s)


@functools.cache
def long_voice_note(seconds: float = LONG_NOTE_SECONDS) -> bytes:
    """An OGG/Opus voice note of ``seconds``: the English sample said again and again.
    For delivery tests that script a long transcript: a text of a thousand words is only
    taken for a transcript of audio long enough to hold it."""
    rate = 48_000
    once = decode((SAMPLES / "en-weather.ogg").read_bytes(), rate)
    wanted = int(seconds * rate)
    return encode(np.tile(once, math.ceil(wanted / once.size))[:wanted], rate, "ogg", "libopus")


_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "de", "pu")
_WORDS = ["".join(pair) for pair in itertools.product(_SYLLABLES, repeat=2)]


def long_speech(sentences: int = 110) -> str:
    """A long transcript that reads like speech, not a loop (which the recognizer's output
    check rejects): ``sentences`` varied sentences, each with "long recording & it" in it
    (an ampersand to escape), about 6,000 characters for 110."""
    pick = random.Random(sentences).choice
    return " ".join(
        f"{pick(_WORDS).capitalize()} {pick(_WORDS)} {pick(_WORDS)} long recording & it "
        f"{pick(_WORDS)} {pick(_WORDS)} {pick(_WORDS)}."
        for _ in range(sentences)
    )
