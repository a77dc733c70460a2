"""Long audio is cut by the chunk plan and recognized in parallel, joined in order."""

from __future__ import annotations

import asyncio
import itertools

from application.commands import AcceptVoiceNote
from application.progress import Stage
from domain.jobs import AudioSource, MediaKind
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio


async def test_chunks_are_recognized_concurrently_and_joined_in_order() -> None:
    world = World.build(max_chunk_seconds=100.0, asr_concurrency=3)
    world.files.files["long"] = FakeAudio(950.0, "part")
    in_flight = 0
    peak = 0
    original = world.recognizer.recognize

    async def slow_recognize(audio, profile, language, language_hint=None):  # type: ignore[no-untyped-def]
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return await original(audio, profile, language, language_hint)

    world.recognizer.recognize = slow_recognize  # type: ignore[method-assign]
    source = AudioSource(MediaKind.AUDIO, "long", "u-long", 950.0)
    await world.app.bus.handle(AcceptVoiceNote("job", 1, 1, source, charge=False))
    report = await world.app.consumer.consume_one(0)

    spans = [span for _, span in world.converter.conversions]
    assert len(spans) == 10
    assert spans[0].start == 0 and spans[-1].end == 950.0
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))
    assert peak == 3, "bounded by ASR_CONCURRENCY and actually parallel"
    assert report is not None and report.text == "[llm] " + " ".join(["part"] * 10)
    chunk_progress = [p for _, p in world.messenger.progress if p.total > 1]
    assert chunk_progress[-1].stage is Stage.RECOGNIZING
    assert (chunk_progress[-1].done, chunk_progress[-1].total) == (10, 10)
