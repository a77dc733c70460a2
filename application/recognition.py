"""Recognizing a whole recording: one request for short audio, parallel chunks for long.

Long audio is cut where it is quiet (the domain's chunk plan) into pieces the recognizer
accepts; the pieces are converted and recognized concurrently, at most ``concurrency`` at
a time, and joined in their original order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from application.errors import PortError
from application.ports import AudioConverter, Recognition, SpeechRecognizer
from domain.policies import AudioProfile, ChunkSpan, plan_chunks, select_profile

ProgressCallback = Callable[[int, int], Awaitable[None]]

ENVELOPE_STEP_SECONDS = 0.1


class ChunkedRecognition:
    def __init__(
        self,
        converter: AudioConverter,
        recognizer: SpeechRecognizer,
        *,
        short_audio_seconds: float,
        max_chunk_seconds: float,
        concurrency: int,
    ) -> None:
        self._converter = converter
        self._recognizer = recognizer
        self._short_audio_seconds = short_audio_seconds
        self._max_chunk_seconds = max_chunk_seconds
        self._concurrency = max(1, concurrency)

    async def recognize(
        self,
        audio: bytes,
        duration_seconds: float,
        language: str | None,
        on_chunk_done: ProgressCallback | None = None,
    ) -> Recognition:
        profile = select_profile(
            duration_seconds, self._recognizer.encoding, self._short_audio_seconds
        )
        spans = await self._plan(audio, duration_seconds)
        if len(spans) <= 1:
            converted = await self._converter.convert(audio, profile)
            result = await self._recognizer.recognize(converted, profile, language)
            if on_chunk_done is not None:
                await on_chunk_done(1, 1)
            return Recognition(result.text.strip(), result.language)
        return await self._recognize_chunks(audio, spans, profile, language, on_chunk_done)

    async def _plan(self, audio: bytes, duration_seconds: float) -> tuple[ChunkSpan, ...]:
        limit = self._recognizer.max_chunk_seconds
        if limit is None:
            return ()
        max_chunk = min(limit, self._max_chunk_seconds)
        if duration_seconds <= max_chunk:
            return ()
        envelope = await self._converter.envelope(audio, ENVELOPE_STEP_SECONDS)
        return plan_chunks(duration_seconds, max_chunk, envelope)

    async def _recognize_chunks(
        self,
        audio: bytes,
        spans: tuple[ChunkSpan, ...],
        profile: AudioProfile,
        language: str | None,
        on_chunk_done: ProgressCallback | None,
    ) -> Recognition:
        slots = asyncio.Semaphore(self._concurrency)
        finished = 0

        async def one(span: ChunkSpan) -> Recognition:
            nonlocal finished
            async with slots:
                converted = await self._converter.convert(audio, profile, span)
                result = await self._recognizer.recognize(converted, profile, language)
            finished += 1
            if on_chunk_done is not None:
                await on_chunk_done(finished, len(spans))
            return result

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(span)) for span in spans]
        except* PortError as failures:
            raise _most_telling(failures.exceptions) from None
        results = [task.result() for task in tasks]
        text = " ".join(part for r in results if (part := r.text.strip()))
        detected = next((r.language for r in results if r.language), None)
        return Recognition(text, detected)


def _most_telling(errors: Sequence[BaseException]) -> BaseException:
    """One chunk failing fails the recording; a permanent failure outranks a transient one."""
    permanent = [e for e in errors if isinstance(e, PortError) and not e.transient]
    return permanent[0] if permanent else errors[0]
