"""A 12-minute recording through ChunkedRecognition, PyAvConverter and DashScopeRecognizer.

The recording is 72 "words": 8 s tones, each at its own pitch, 2 s of silence apart. The
fake "recognizes" a chunk by decoding its audio and naming the pitch of each tone, so the
joined transcript proves that every chunk was sent once, whole, and joined in order, in
either upload format (OGG/Opus, MP3). The fake answers after a delay proportional to the
chunk's length, and its timestamps show the chunks in flight at the same time; each
request stays within qwen3-asr-flash's limits.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator

import av
import numpy as np
import pytest

from application.recognition import ChunkedRecognition
from domain.policies import AudioEncoding
from infrastructure.audio import PyAvConverter
from infrastructure.dashscope import DashScopeRecognizer
from infrastructure.dashscope.recognizer import MAX_CHUNK_SECONDS
from infrastructure.retrying import RetryPolicy
from tests.fakes.dashscope_server import FakeDashScope, RecordedRequest
from tests.media_clips import decode

RATE = 16_000
WORDS, TONE_SECONDS, GAP_SECONDS = 72, 8, 2  # 72 x 10 s = 12 minutes
BASE_PITCH, PITCH_STEP = 200, 20
SECONDS_OF_LATENCY_PER_AUDIO_SECOND = 0.004
REQUEST_LIMIT_SECONDS, REQUEST_LIMIT_BASE64 = 300.0, 10 * 1024 * 1024


@pytest.fixture(scope="module")
def twelve_minutes() -> bytes:
    """The tone words as 16 kHz mono WAV: cheap to build and to decode."""
    t = np.arange(TONE_SECONDS * RATE) / RATE
    gap = np.zeros(GAP_SECONDS * RATE)
    parts = [np.concatenate([0.4 * np.sin(2 * np.pi * _pitch(i) * t), gap]) for i in range(WORDS)]
    pcm = (np.concatenate(parts) * 32767).astype(np.int16).reshape(1, -1)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="wav") as output:
        stream = output.add_stream("pcm_s16le", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = RATE
        output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()


def _pitch(word: int) -> int:
    return BASE_PITCH + PITCH_STEP * word


def _heard_words(request: RecordedRequest) -> str:
    """The fake's recognizer: ``w<i>`` for each tone, identified by its pitch."""
    samples = decode(request.audio, RATE)
    frames = samples[: samples.size // 800 * 800].reshape(-1, 800)  # 50 ms at 16 kHz
    voiced = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1)) > 0.05
    words, start = [], None
    for index, loud in enumerate([*voiced, False]):
        if loud and start is None:
            start = index
        elif not loud and start is not None:
            tone = frames[start:index].reshape(-1)
            if tone.size >= RATE // 2:
                spectrum = np.abs(np.fft.rfft(tone))  # a lossy codec's noise fools zero crossings
                pitch = np.argmax(spectrum) * RATE / tone.size
                words.append(f"w{round((pitch - BASE_PITCH) / PITCH_STEP)}")
            start = None
    return " ".join(words)


def _latency(request: RecordedRequest) -> float:
    with av.open(io.BytesIO(request.audio), mode="r") as container:
        seconds = (container.duration or 0) / av.time_base
    return seconds * SECONDS_OF_LATENCY_PER_AUDIO_SECOND


@pytest.fixture
def fake() -> Iterator[FakeDashScope]:
    with FakeDashScope(latency=_latency, transcript=_heard_words) as server:
        yield server


@pytest.fixture(params=[AudioEncoding.OPUS, AudioEncoding.MP3], ids=["opus", "mp3"])
async def recognizer(
    fake: FakeDashScope, request: pytest.FixtureRequest
) -> AsyncIterator[DashScopeRecognizer]:
    retry = RetryPolicy(attempts=3, base_delay_seconds=0.01, max_delay_seconds=0.02)
    adapter = DashScopeRecognizer(
        # A generous timeout: on a loaded machine a slow answer must not turn into a retry.
        fake.api_key,
        fake.base_url,
        timeout_seconds=120,
        retry=retry,
        audio_format=request.param,
    )
    yield adapter
    await adapter.close()


async def test_twelve_minutes_in_parallel_chunks_joined_in_order(
    twelve_minutes: bytes, fake: FakeDashScope, recognizer: DashScopeRecognizer
) -> None:
    converter = PyAvConverter()
    duration = (await converter.probe(twelve_minutes)).duration_seconds
    chunked = ChunkedRecognition(
        converter, recognizer, short_audio_seconds=10, max_chunk_seconds=600, concurrency=4
    )

    result = await chunked.recognize(twelve_minutes, duration, "en")

    assert result.text == " ".join(f"w{i}" for i in range(WORDS))
    assert result.language == "en"
    # 720 s in three chunks of at most 280 s (counted by audio: a retry resends a chunk)
    assert len({request.audio for request in fake.requests}) == 3
    media = {AudioEncoding.OPUS: "audio/ogg", AudioEncoding.MP3: "audio/mpeg"}
    for request in fake.requests:
        assert request.media_type == media[recognizer.encoding]
        seconds = (await converter.probe(request.audio)).duration_seconds
        assert seconds <= MAX_CHUNK_SECONDS + 0.2 < REQUEST_LIMIT_SECONDS
        assert len(request.audio_uri) < REQUEST_LIMIT_BASE64
        assert request.parameters["asr_options"] == {"enable_itn": True, "language": "en"}
    assert fake.max_in_flight() >= 2
