"""Subtitles from qwen3-asr-flash, which gives no times: cue-sized chunks cut in the pauses.

The recording is a voice note (OGG/Opus) of "phrases" whose starts are known: tones of
3-6 s, each at its own pitch, separated by pauses of 0.8-2.5 s, over a faint hiss (a real
room is never silent). It goes through ChunkedRecognition, PyAvConverter and the real
DashScopeRecognizer against the DashScope fake, which "recognizes" a chunk by naming the
pitch of each tone in it (``w<i>``). Asked for times, the recording is cut into chunks of
5-15 s at pauses; every cue of the resulting SRT names one phrase and starts within 0.5 s
of that phrase's true start. The same recording for plain text is one request, as before.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator, Iterator

import numpy as np
import pytest
import srt

from application.recognition import ChunkedRecognition
from domain.cue_chunks import CUE_CHUNK_MAX_SECONDS
from domain.subtitle_files import srt as render_srt
from domain.subtitles import cues
from domain.transcript import Transcript
from infrastructure.audio import PyAvConverter
from infrastructure.dashscope import DashScopeRecognizer
from infrastructure.retrying import RetryPolicy
from tests.fakes.dashscope_server import FakeDashScope, RecordedRequest
from tests.media_clips import decode, encode

RATE = 48_000
PHRASES = 14
BASE_PITCH, PITCH_STEP = 220, 25
LEAD_IN_SECONDS = 0.3
TOLERANCE_SECONDS = 0.5
CONCURRENCY = 4


def phrase_plan() -> list[tuple[float, float, float]]:
    """Each phrase's (start, length, pause after it) in seconds; seeded. A phrase and its
    pause last at least 5.5 s, so every phrase can start a cue-sized chunk of its own."""
    pick = random.Random(16)
    plan, start = [], LEAD_IN_SECONDS
    for _ in range(PHRASES):
        length = round(pick.uniform(3.0, 6.0), 2)
        pause = round(max(pick.uniform(0.8, 2.5), 5.5 - length), 2)
        plan.append((start, length, pause))
        start += length + pause
    return plan


@pytest.fixture(scope="module")
def recording() -> bytes:
    hiss = np.random.default_rng(16)
    parts = [np.zeros(int(LEAD_IN_SECONDS * RATE))]
    for index, (_, length, pause) in enumerate(phrase_plan()):
        t = np.arange(int(length * RATE)) / RATE
        parts += [0.4 * np.sin(2 * np.pi * _pitch(index) * t), np.zeros(int(pause * RATE))]
    samples = np.concatenate(parts)
    samples += hiss.normal(0.0, 0.003, samples.size)
    return encode(samples.astype(np.float32), RATE, "ogg", "libopus")


def _pitch(phrase: int) -> int:
    return BASE_PITCH + PITCH_STEP * phrase


def _heard_phrases(request: RecordedRequest) -> str:
    """The fake's recognizer: ``w<i>`` for each tone of the chunk, identified by its pitch."""
    rate = 16_000
    samples = decode(request.audio, rate)
    frames = samples[: samples.size // 800 * 800].reshape(-1, 800)  # 50 ms
    voiced = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1)) > 0.05
    words, start = [], None
    for index, loud in enumerate([*voiced, False]):
        if loud and start is None:
            start = index
        elif not loud and start is not None:
            tone = frames[start:index].reshape(-1)
            if tone.size >= rate // 2:
                pitch = np.argmax(np.abs(np.fft.rfft(tone))) * rate / tone.size
                words.append(f"w{round((pitch - BASE_PITCH) / PITCH_STEP)}.")
            start = None
    return " ".join(words)


@pytest.fixture
def fake() -> Iterator[FakeDashScope]:
    with FakeDashScope(latency=0.05, transcript=_heard_phrases) as server:
        yield server


@pytest.fixture
async def recognition(fake: FakeDashScope) -> AsyncIterator[ChunkedRecognition]:
    recognizer = DashScopeRecognizer(
        fake.api_key,
        fake.base_url,
        timeout_seconds=120,  # a loaded machine's slow answer must not become a retry
        retry=RetryPolicy(attempts=3, base_delay_seconds=0.01, max_delay_seconds=0.02),
    )
    yield ChunkedRecognition(
        PyAvConverter(),
        recognizer,
        short_audio_seconds=10,
        max_chunk_seconds=150,
        concurrency=CONCURRENCY,
    )
    await recognizer.close()


async def test_each_cue_starts_within_half_a_second_of_its_phrase(
    recording: bytes, fake: FakeDashScope, recognition: ChunkedRecognition
) -> None:
    duration = (await PyAvConverter().probe(recording)).duration_seconds

    heard = await recognition.recognize(recording, duration, "en", times_wanted=True)

    subtitles = list(srt.parse(render_srt(cues(Transcript(heard.segments), duration))))
    assert [cue.content for cue in subtitles] == [f"w{i}." for i in range(PHRASES)]
    for cue, (start, _, _) in zip(subtitles, phrase_plan(), strict=True):
        assert abs(cue.start.total_seconds() - start) <= TOLERANCE_SECONDS, (cue, start)
    for before, after in itertools.pairwise(subtitles):
        assert before.start < before.end <= after.start
    assert subtitles[-1].end.total_seconds() <= duration + 1e-3
    assert len(fake.requests) == len(heard.segments) == PHRASES
    lengths = [s.end - s.start for s in heard.segments if s.end is not None and s.start is not None]
    assert max(lengths) <= CUE_CHUNK_MAX_SECONDS
    assert fake.max_in_flight() <= CONCURRENCY


async def test_the_same_recording_for_plain_text_is_one_request(
    recording: bytes, fake: FakeDashScope, recognition: ChunkedRecognition
) -> None:
    duration = (await PyAvConverter().probe(recording)).duration_seconds

    heard = await recognition.recognize(recording, duration, "en")

    assert len(fake.requests) == 1
    assert heard.text == " ".join(f"w{i}." for i in range(PHRASES))
