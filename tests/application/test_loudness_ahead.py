"""LoudnessAhead reads a window's loudness from blocks measured once each, ahead of the
cuts, and gives exactly what measuring the window itself gives; a broken block fails the
window that needs it; closing stops the blocks still measuring."""

from __future__ import annotations

import asyncio

import pytest

from application.errors import AudioUnreadable
from application.loudness_ahead import LoudnessAhead
from domain.policies import ChunkSpan, EnergyEnvelope, steps_between

STEP = 0.1
DURATION = 200.0


class SteppedConverter:
    """Each step's loudness is a function of its index; counts and can hold measurements."""

    def __init__(self) -> None:
        self.measured: list[ChunkSpan] = []
        self.release = asyncio.Event()
        self.release.set()
        self.broken_from: float | None = None
        self.cancelled = 0
        self.three_measuring = asyncio.Event()

    @staticmethod
    def loudness(step: int) -> float:
        return (step * 7 % 11) / 10

    async def envelope(
        self, data: bytes, step_seconds: float, span: ChunkSpan | None = None
    ) -> EnergyEnvelope:
        assert span is not None
        self.measured.append(span)
        if len(self.measured) >= 3:
            self.three_measuring.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if self.broken_from is not None and span.end > self.broken_from:
            raise AudioUnreadable("broken in the middle")
        steps = steps_between(span.start, span.end, step_seconds)
        known = [i for i in steps if i * step_seconds < DURATION]
        return EnergyEnvelope(step_seconds, tuple(self.loudness(i) for i in known), steps.start)


@pytest.mark.parametrize(
    "window", [ChunkSpan(5.0, 15.0), ChunkSpan(25.3, 35.3), ChunkSpan(59.95, 60.05),
               ChunkSpan(185.0, 199.97), ChunkSpan(190.0, 200.0)]
)  # fmt: skip
async def test_a_window_reads_as_if_measured_itself(window: ChunkSpan) -> None:
    converter = SteppedConverter()
    loudness = LoudnessAhead(converter, b"audio", DURATION, STEP, block_seconds=30.0)  # type: ignore[arg-type]

    got = await loudness.window(window)
    await loudness.close()

    assert got == await converter.envelope(b"audio", STEP, window)


async def test_blocks_are_measured_once_and_ahead() -> None:
    converter = SteppedConverter()
    loudness = LoudnessAhead(converter, b"audio", DURATION, STEP, block_seconds=30.0, ahead=2)  # type: ignore[arg-type]

    for start in range(5, 190, 7):
        await loudness.window(ChunkSpan(float(start), float(start) + 10.0))
    await loudness.close()

    starts = [span.start for span in converter.measured]
    assert sorted(starts) == [0.0, 30.0, 60.0, 90.0, 120.0, 150.0, 180.0], "each block once"
    assert converter.measured[:3] == [ChunkSpan(0, 30), ChunkSpan(30, 60), ChunkSpan(60, 90)]
    assert converter.measured[-1] == ChunkSpan(180.0, DURATION), "the last block ends with it"


async def test_a_broken_block_fails_the_window_that_needs_it() -> None:
    converter = SteppedConverter()
    converter.broken_from = 50.0
    loudness = LoudnessAhead(converter, b"audio", DURATION, STEP, block_seconds=30.0)  # type: ignore[arg-type]

    await loudness.window(ChunkSpan(5.0, 15.0))  # block 30-60 broken, measured ahead
    with pytest.raises(AudioUnreadable):
        await loudness.window(ChunkSpan(25.0, 35.0))
    await loudness.close()


async def test_closing_stops_the_blocks_still_measuring() -> None:
    converter = SteppedConverter()
    loudness = LoudnessAhead(converter, b"audio", DURATION, STEP, block_seconds=30.0, ahead=2)  # type: ignore[arg-type]
    converter.release.clear()
    waiting = asyncio.create_task(loudness.window(ChunkSpan(5.0, 15.0)))
    await converter.three_measuring.wait()  # the window's block and the two ahead

    waiting.cancel()
    await loudness.close()

    assert converter.cancelled == 3
