"""A recording's loudness measured ahead of the cuts, in blocks, for cue-sized chunks.

Why this exists: cue-sized chunks (``domain.cue_chunks``) need a cut every 5-15 s, each
placed from the loudness of the 10 s window after the last one. Measured window by
window, placing the cuts is a chain of decodes, each waiting for the one before, that
covers the recording about 1.4 times on one core: on a 400 s voice note it took longer
than recognizing its 59 chunks (``benchmarks/timed_chunks.py``). Here the recording is
measured once, in blocks of ``block_seconds``, up to ``ahead`` blocks beyond the window
being placed, each block in its own thread, so the cuts are placed while the next blocks
decode; a window's loudness is read from the blocks it overlaps. ``close`` cancels the
blocks still measuring (a failed or finished recording).
"""

from __future__ import annotations

import asyncio
import contextlib
import math

from application.ports import AudioConverter
from domain.policies import ChunkSpan, EnergyEnvelope, steps_between

BLOCK_SECONDS = 30.0
BLOCKS_AHEAD = 2


class LoudnessAhead:
    def __init__(
        self,
        converter: AudioConverter,
        audio: bytes,
        duration_seconds: float,
        step_seconds: float,
        *,
        block_seconds: float = BLOCK_SECONDS,
        ahead: int = BLOCKS_AHEAD,
    ) -> None:
        self._converter = converter
        self._audio = audio
        self._duration = duration_seconds
        self._step = step_seconds
        self._block = block_seconds
        self._ahead = ahead
        self._last_block = max(0, math.ceil(duration_seconds / block_seconds) - 1)
        self._blocks: dict[int, asyncio.Task[EnergyEnvelope]] = {}

    async def window(self, span: ChunkSpan) -> EnergyEnvelope:
        """The loudness of the steps starting in ``span`` (as ``AudioConverter.envelope``
        of that span gives it), from the blocks it overlaps; starts measuring the next."""
        first = self._block_of(span.start)
        last = self._block_of(span.end)
        for block in range(first, min(last + self._ahead, self._last_block) + 1):
            self._measure(block)
        known: dict[int, float] = {}
        for block in range(first, last + 1):
            envelope = await self._measure(block)
            for offset, value in enumerate(envelope.values):
                known.setdefault(envelope.first_step + offset, value)
        steps = steps_between(span.start, span.end, self._step)
        values = []
        for step in steps:
            if step not in known:
                break  # past the end of the audio
            values.append(known[step])
        return EnergyEnvelope(self._step, tuple(values), steps.start)

    async def close(self) -> None:
        """Stop measuring blocks no cut will need."""
        pending = [task for task in self._blocks.values() if not task.done()]
        for task in pending:
            task.cancel()
        for task in self._blocks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task  # retrieved: a failed block is not reported as never awaited

    def _block_of(self, seconds: float) -> int:
        return min(self._last_block, max(0, int(seconds // self._block)))

    def _measure(self, block: int) -> asyncio.Task[EnergyEnvelope]:
        task = self._blocks.get(block)
        if task is None:
            span = ChunkSpan(block * self._block, min((block + 1) * self._block, self._duration))
            task = asyncio.ensure_future(self._converter.envelope(self._audio, self._step, span))
            self._blocks[block] = task
        return task
