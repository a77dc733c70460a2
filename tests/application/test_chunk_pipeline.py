"""ChunkedRecognition's pipeline on in-memory ports: cuts planned one window at a time,
conversions bounded by the cores, recognitions by ``concurrency``, order and progress kept,
one failing chunk failing the recording."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import pytest

from application.errors import AudioUnreadable, RecognitionFailed
from application.recognition import ChunkedRecognition
from domain.policies import ChunkSpan, EnergyEnvelope, plan_chunks, steps_between
from tests.application.in_memory import FakeAudio, FakeConverter, FakeFileSource, FakeRecognizer

DURATION = 1000.0
MAX_CHUNK = 100.0


class Gauge:
    """How many are inside at once, at most."""

    def __init__(self) -> None:
        self.now = self.peak = 0

    async def hold(self, seconds: float) -> None:
        self.now += 1
        self.peak = max(self.peak, self.now)
        await asyncio.sleep(seconds)
        self.now -= 1


class SlowConverter(FakeConverter):
    """Conversions take time; the quiet point of every window is 3 s before its limit."""

    def __init__(self, files: FakeFileSource, seconds: float = 0.01) -> None:
        super().__init__(files)
        self.gauge = Gauge()
        self.seconds = seconds
        self.fail_at: float | None = None

    async def envelope(
        self, data: bytes, step_seconds: float, span: ChunkSpan | None = None
    ) -> EnergyEnvelope:
        assert span is not None, "long audio is never measured whole"
        await super().envelope(data, step_seconds, span)
        steps = steps_between(span.start, span.end, step_seconds)
        quiet = round((span.end - 3.0) / step_seconds)
        return EnergyEnvelope(step_seconds, [0.0 if i == quiet else 1.0 for i in steps], steps[0])

    async def convert(self, data, profile, span=None):  # type: ignore[no-untyped-def]
        if span is not None and self.fail_at is not None and span.start <= self.fail_at < span.end:
            raise AudioUnreadable("broken in the middle")
        self.conversions.append((profile, span))
        await self.gauge.hold(self.seconds)
        return b"whole" if span is None else f"{span.start:.1f}".encode()


class SlowRecognizer(FakeRecognizer):
    def __init__(self, seconds: float = 0.03) -> None:
        super().__init__(MAX_CHUNK)
        self.gauge = Gauge()
        self.seconds = seconds

    async def recognize(self, audio, profile, language, language_hint=None):  # type: ignore[no-untyped-def]
        await self.gauge.hold(self.seconds)
        return await super().recognize(audio, profile, language, language_hint)


def world(asr: int = 3, cpu: int = 2) -> tuple[SlowConverter, SlowRecognizer, ChunkedRecognition]:
    files = FakeFileSource()
    files.files["long"] = FakeAudio(DURATION)
    converter, recognizer = SlowConverter(files), SlowRecognizer()
    recognition = ChunkedRecognition(
        converter,
        recognizer,
        short_audio_seconds=10,
        max_chunk_seconds=MAX_CHUNK,
        concurrency=asr,
        conversion_concurrency=cpu,
    )
    return converter, recognizer, recognition


async def test_cuts_fall_at_the_quiet_points_and_texts_join_in_order() -> None:
    converter, _, recognition = world()

    result = await recognition.recognize(b"long", DURATION, "en")

    spans = [span for _, span in converter.conversions]
    assert all(span is not None for span in spans)
    assert spans[0].start == 0 and spans[-1].end == DURATION  # type: ignore[union-attr]
    assert all(a.end == b.start for a, b in itertools.pairwise(spans))  # type: ignore[union-attr]
    assert [s.end for s in spans[:3]] == pytest.approx([97.0, 194.0, 291.0])  # type: ignore[union-attr]
    assert result.text == " ".join(f"{s.start:.1f}" for s in spans)  # type: ignore[union-attr]
    assert all(w is not None and w.length <= 10.0 for w in converter.envelopes)
    envelope = EnergyEnvelope(0.1, [1.0] * 10_001)
    assert len(spans) >= len(plan_chunks(DURATION, MAX_CHUNK, envelope))


@pytest.mark.parametrize(("asr", "cpu"), [(3, 2), (1, 1), (8, 2), (2, 4)])
async def test_conversions_and_recognitions_have_separate_bounds(asr: int, cpu: int) -> None:
    converter, recognizer, recognition = world(asr, cpu)
    recognizer.seconds = 0.1  # slow enough for every recognition slot to fill

    await recognition.recognize(b"long", DURATION, None)

    assert converter.gauge.peak == min(cpu, asr + cpu)
    assert recognizer.gauge.peak == asr


async def test_the_conversion_bound_is_shared_by_recordings_of_one_process() -> None:
    converter, _, recognition = world(asr=4, cpu=2)

    await asyncio.gather(*(recognition.recognize(b"long", DURATION, None) for _ in range(3)))

    assert converter.gauge.peak == 2


async def test_recognition_overlaps_the_next_conversions() -> None:
    converter, recognizer, recognition = world(asr=8, cpu=2)
    converter.seconds, recognizer.seconds = 0.02, 0.06
    loop = asyncio.get_running_loop()

    started = loop.time()
    await recognition.recognize(b"long", DURATION, None)
    wall = loop.time() - started

    chunks = len(converter.conversions)
    sequential = chunks * (converter.seconds + recognizer.seconds)
    assert wall < sequential / 2.5


async def test_progress_counts_every_chunk_against_the_final_total() -> None:
    converter, _, recognition = world()
    seen: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        seen.append((done, total))

    await recognition.recognize(b"long", DURATION, None, progress)

    chunks = len(converter.conversions)
    assert seen == [(i, chunks) for i in range(1, chunks + 1)]


async def test_one_failing_chunk_fails_the_recording_with_the_most_telling_error() -> None:
    converter, recognizer, recognition = world()
    converter.fail_at = 450.0
    recognizer.failures = [RecognitionFailed("busy", transient=True)]

    with pytest.raises(AudioUnreadable, match="broken in the middle"):
        await recognition.recognize(b"long", DURATION, None)


async def test_a_transient_recognition_failure_fails_the_recording() -> None:
    _, recognizer, recognition = world()
    recognizer.failures = [RecognitionFailed("busy", transient=True)]

    with pytest.raises(RecognitionFailed, match="busy") as caught:
        await recognition.recognize(b"long", DURATION, None)

    assert caught.value.transient


async def test_unreadable_audio_while_planning_fails_the_recording() -> None:
    converter, _, recognition = world()
    converter._files.files["long"] = FakeAudio(DURATION, unreadable=True)

    with pytest.raises(AudioUnreadable):
        await recognition.recognize(b"long", DURATION, None)


async def test_short_audio_is_one_conversion_without_planning() -> None:
    converter, recognizer, recognition = world()
    done: list[tuple[int, int]] = []

    async def progress(a: int, b: int) -> None:
        done.append((a, b))

    await recognition.recognize(b"long", MAX_CHUNK, None, progress)

    assert converter.envelopes == []
    assert recognizer.calls == 1
    assert done == [(1, 1)]


async def soon(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - polling state the code under test owns
            await asyncio.sleep(0.001)


class GatedConverter(SlowConverter):
    """Each conversion runs until the test lets it finish."""

    def __init__(self, files: FakeFileSource) -> None:
        super().__init__(files)
        self.started: list[ChunkSpan | None] = []
        self.gates: list[asyncio.Event] = []

    async def convert(self, data, profile, span=None):  # type: ignore[no-untyped-def]
        self.started.append(span)
        gate = asyncio.Event()
        self.gates.append(gate)
        await gate.wait()
        return b"whole" if span is None else f"{span.start:.1f}".encode()


async def test_a_short_note_is_converted_before_the_queued_chunks_of_a_long_recording() -> None:
    files = FakeFileSource()
    files.files["long"] = FakeAudio(DURATION)
    converter = GatedConverter(files)
    recognition = ChunkedRecognition(
        converter,
        SlowRecognizer(seconds=0),
        short_audio_seconds=10,
        max_chunk_seconds=MAX_CHUNK,
        concurrency=3,
        conversion_concurrency=1,
    )
    long = asyncio.create_task(recognition.recognize(b"long", DURATION, None))
    slots = recognition._cpu()  # this loop's slots: to see the chunks queue for the core
    await soon(lambda: slots.waiting >= 3)  # one chunk converting, three queued behind it
    short = asyncio.create_task(recognition.recognize(b"short", 5.0, None))
    await soon(lambda: slots.waiting >= 4)

    converter.gates[0].set()
    await soon(lambda: len(converter.started) == 2)

    assert converter.started[1] is None  # the whole short note, not the long one's next chunk
    while not (long.done() and short.done()):
        for gate in converter.gates:
            gate.set()
        await asyncio.sleep(0.001)
    assert (await short).text == "whole"
    assert (await long).text.startswith("0.0 ")
