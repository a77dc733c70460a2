"""Recognizing a whole recording: one request for short audio, pipelined chunks for long.

Long audio is cut where it is quiet into pieces the recognizer accepts. Cutting is
sequential (each cut depends on the one before), but it needs only the loudness of a few
seconds before each limit (``search_window``), so the plan is made one cut at a time
while the chunks already cut are converted and recognized. Two limits apply: conversion
is CPU work, bounded by the cores (shared by every recording of the process, so two long
recordings do not oversubscribe them, and a short note goes before queued chunks:
``ConversionSlots``); recognition is waiting on a service, bounded by
``concurrency`` per recording. No chunk is converted much before a recognition slot can
take it, so converted audio never piles up. Results are joined in their original order;
one chunk failing fails the recording. Each chunk's segments are put on the recording's
clock (shifted by the chunk's start; a recognizer's untimed answer spans its chunk), so the
recording's segments are ordered by chunk and lie within it.

When times are wanted (timed text, subtitles) and the recognizer gives none (qwen3-asr-flash),
the recording is cut into cue-sized chunks instead (``domain.cue_chunks``: 5-15 s, each
cut in a pause just before speech resumes), recognized in parallel within the same
bounds: each chunk's text becomes a segment spanning it, so the times are the pauses'.
Their loudness is measured ahead of the cuts, in blocks decoded in parallel
(``LoudnessAhead``): one window at a time, the many short cuts would be a chain of
decodes longer than the recognition itself.
A recognizer with times (Whisper) is cut as for plain text: its own segments are finer.

What comes back is checked before it is kept (``domain.recognition_quality``): a request
whose text is a loop or more words than its audio could hold is not a transcript. It is
recognized once more in the user's Telegram language (``language_hint``) when the user set
no language and it was not already decoded in that one; still degenerate, the recording
fails with ``NotATranscript`` (nothing is charged for it).

A recording may be stopped (``stop``, set when its user pressed Stop): chunks not yet
sent are never sent, chunks in flight are abandoned, and ``RecognitionStopped`` carries
the chunks recognized before, in order. Each chunk is reported as soon as it is
recognized (``on_chunk``), so the user's draft grows without waiting for the plan or for
other chunks.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Awaitable, Callable, Sequence

import attrs

from application.conversion_slots import ConversionSlots
from application.errors import PortError, RecognitionFailed
from application.loudness_ahead import LoudnessAhead
from application.ports import AudioConverter, Recognition, SpeechRecognizer
from domain.cue_chunks import cue_search_window, next_cue_cut
from domain.policies import AudioProfile, ChunkSpan, next_cut, search_window, select_profile
from domain.recognition_quality import Degenerate, degenerate_recognition
from domain.transcript import concatenate, placed

ProgressCallback = Callable[[int, int], Awaitable[None]]
# Where the chunk from a start ends (a cut, from the loudness of its search window only).
NextCut = Callable[[float], Awaitable[float]]


@attrs.frozen
class ChunkRecognized:
    """One chunk's answer, the moment it arrives: ``index`` in the recording's order,
    ``planned`` chunks known so far (the plan may still be growing)."""

    index: int
    span: ChunkSpan
    recognition: Recognition
    planned: int


ChunkListener = Callable[[ChunkRecognized], Awaitable[None]]


class RecognitionStopped(Exception):
    """The recording was stopped before all of it was recognized. ``partial``: the
    chunks recognized before, joined in order (empty text when none were);
    ``recognized_seconds``: the audio they cover."""

    def __init__(self, partial: Recognition, recognized_seconds: float) -> None:
        super().__init__(f"stopped after {recognized_seconds:.1f} s recognized")
        self.partial = partial
        self.recognized_seconds = recognized_seconds


ENVELOPE_STEP_SECONDS = 0.1


class NotATranscript(RecognitionFailed):
    """The recognizer's answer is a loop or a hallucination, even after the retry in the
    user's language: there is no transcript to deliver or to charge for."""

    def __init__(self, degenerate: Degenerate, language: str | None) -> None:
        what = degenerate.reason.value + (
            f" {degenerate.phrase!r} covering {degenerate.coverage:.0%}"
            if degenerate.phrase
            else ""
        )
        super().__init__(
            f"not a transcript ({what}, {degenerate.words_per_second:.1f} words/s, "
            f"language {language or 'auto'})",
            transient=False,
        )
        self.degenerate = degenerate


def available_cores() -> int:
    """CPUs this process may run on (its affinity, which containers often narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class ChunkedRecognition:
    def __init__(
        self,
        converter: AudioConverter,
        recognizer: SpeechRecognizer,
        *,
        short_audio_seconds: float,
        max_chunk_seconds: float,
        concurrency: int,
        conversion_concurrency: int | None = None,
    ) -> None:
        self._converter = converter
        self._recognizer = recognizer
        self._short_audio_seconds = short_audio_seconds
        self._max_chunk_seconds = max_chunk_seconds
        self._concurrency = max(1, concurrency)
        self._conversions = max(1, conversion_concurrency or available_cores())
        self._conversion_slots: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, ConversionSlots
        ] = weakref.WeakKeyDictionary()

    async def recognize(
        self,
        audio: bytes,
        duration_seconds: float,
        language: str | None,
        on_chunk_done: ProgressCallback | None = None,
        *,
        language_hint: str | None = None,
        times_wanted: bool = False,
        on_chunk: ChunkListener | None = None,
        stop: asyncio.Event | None = None,
    ) -> Recognition:
        """The recording's text. ``language``: the user's setting (None: detect);
        ``language_hint``: the user's Telegram language, the prior when detection is unsure
        and the language of the one retry of a degenerate answer; ``times_wanted``: the
        answer is made from the times (a recognizer without times gets cue-sized chunks);
        ``on_chunk``: told each chunk's answer as it arrives; ``stop``: once set,
        recognition ends with ``RecognitionStopped``. Raises RecognitionFailed
        (``NotATranscript`` for an answer that is no transcript)."""
        finished: dict[int, tuple[ChunkSpan, Recognition]] = {}
        work = asyncio.ensure_future(
            self._recognize(
                audio,
                duration_seconds,
                language,
                on_chunk_done,
                language_hint=language_hint,
                times_wanted=times_wanted,
                on_chunk=on_chunk,
                finished=finished,
            )
        )
        if stop is None:
            return await work
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            work.cancel()
            raise
        finally:
            stopped.cancel()
        if work.done():
            return work.result()
        # Stopped: nothing more is sent, and answers still on their way are not waited for.
        work.cancel()
        await asyncio.wait([work])  # never raises: our own cancellation stays ours
        if not work.cancelled():
            work.exception()  # retrieved: a chunk's failure after Stop no longer matters
        raise _stopped(finished)

    async def _recognize(
        self,
        audio: bytes,
        duration_seconds: float,
        language: str | None,
        on_chunk_done: ProgressCallback | None,
        *,
        language_hint: str | None,
        times_wanted: bool,
        on_chunk: ChunkListener | None,
        finished: dict[int, tuple[ChunkSpan, Recognition]],
    ) -> Recognition:
        profile = select_profile(
            duration_seconds, self._recognizer.encoding, self._short_audio_seconds
        )
        max_chunk = self._max_chunk()
        cue_sized = times_wanted and not self._recognizer.gives_times
        if cue_sized:
            one_request = cue_search_window(0.0, duration_seconds) is None
        else:
            one_request = max_chunk is None or duration_seconds <= max_chunk
        if one_request:
            async with self._cpu().taken(urgent=True):
                converted = await self._converter.convert(audio, profile)
            result = await self._checked(
                converted, profile, duration_seconds, language, language_hint
            )
            whole = ChunkSpan(0.0, duration_seconds)
            finished[0] = (whole, result)
            if on_chunk is not None:
                await on_chunk(ChunkRecognized(0, whole, result, 1))
            if on_chunk_done is not None:
                await on_chunk_done(1, 1)
            timed = placed(result.transcript, 0.0, duration_seconds)
            return Recognition(result.text.strip(), result.language, timed.segments)

        loudness = LoudnessAhead(self._converter, audio, duration_seconds, ENVELOPE_STEP_SECONDS)

        async def cut_after(start: float) -> float:
            if cue_sized:
                return await _next_cue_cut(loudness, start, duration_seconds)
            assert max_chunk is not None  # more than one request
            return await self._next_cut(audio, start, duration_seconds, max_chunk)

        try:
            return await self._recognize_chunks(
                audio,
                duration_seconds,
                cut_after=cut_after,
                profile=profile,
                language=language,
                language_hint=language_hint,
                on_chunk_done=on_chunk_done,
                on_chunk=on_chunk,
                finished=finished,
            )
        finally:
            await loudness.close()

    async def _checked(
        self,
        audio: bytes,
        profile: AudioProfile,
        seconds: float,
        language: str | None,
        hint: str | None,
    ) -> Recognition:
        """One request's answer, retried once in the user's language when it is no
        transcript; raises NotATranscript when the answer stays degenerate."""
        result = await self._recognizer.recognize(audio, profile, language, hint)
        degenerate = degenerate_recognition(result.text, seconds)
        if degenerate is None:
            return result
        retry_in = _retry_language(language, hint, result.language)
        if retry_in is not None:
            result = await self._recognizer.recognize(audio, profile, retry_in, hint)
            degenerate = degenerate_recognition(result.text, seconds)
            if degenerate is None:
                return result
        raise NotATranscript(degenerate, result.language)

    def chunked(self, duration_seconds: float, *, times_wanted: bool = False) -> bool:
        """Whether a recording this long is recognized in more than one chunk (cue-sized
        ones when times are wanted from a recognizer without times)."""
        if times_wanted and not self._recognizer.gives_times:
            return cue_search_window(0.0, duration_seconds) is not None
        max_chunk = self._max_chunk()
        return max_chunk is not None and duration_seconds > max_chunk

    def _max_chunk(self) -> float | None:
        limit = self._recognizer.max_chunk_seconds
        return None if limit is None else min(limit, self._max_chunk_seconds)

    def _cpu(self) -> ConversionSlots:
        """This event loop's conversion slots (their futures belong to one loop)."""
        loop = asyncio.get_running_loop()
        slots = self._conversion_slots.get(loop)
        if slots is None:
            slots = self._conversion_slots[loop] = ConversionSlots(self._conversions)
        return slots

    async def _recognize_chunks(
        self,
        audio: bytes,
        duration_seconds: float,
        *,
        cut_after: NextCut,
        profile: AudioProfile,
        language: str | None,
        language_hint: str | None,
        on_chunk_done: ProgressCallback | None,
        on_chunk: ChunkListener | None,
        finished: dict[int, tuple[ChunkSpan, Recognition]],
    ) -> Recognition:
        recognizing = asyncio.Semaphore(self._concurrency)
        # Chunks between the start of their conversion and the end of their recognition.
        in_flight = asyncio.Semaphore(self._concurrency + self._conversions)
        planned = asyncio.Event()
        total = done = 0
        spans: list[ChunkSpan] = []

        async def one(index: int, span: ChunkSpan) -> Recognition:
            nonlocal done
            async with in_flight:
                async with self._cpu().taken(urgent=False):
                    converted = await self._converter.convert(audio, profile, span)
                async with recognizing:
                    result = await self._checked(
                        converted, profile, span.length, language, language_hint
                    )
                del converted
            finished[index] = (span, result)
            if on_chunk is not None:  # at once: the draft need not wait for the plan
                await on_chunk(ChunkRecognized(index, span, result, len(spans)))
            await planned.wait()  # progress counts against the final number of chunks
            done += 1
            if on_chunk_done is not None:
                await on_chunk_done(done, total)
            return result

        try:
            async with asyncio.TaskGroup() as group:
                tasks = []
                start = 0.0
                while start < duration_seconds:
                    cut = await cut_after(start)
                    spans.append(ChunkSpan(start, cut))
                    tasks.append(group.create_task(one(len(spans) - 1, spans[-1])))
                    start = cut
                total = len(tasks)
                planned.set()
        except* PortError as failures:
            raise _most_telling(failures.exceptions) from None
        results = [task.result() for task in tasks]
        text = " ".join(part for r in results if (part := r.text.strip()))
        detected = next((r.language for r in results if r.language), None)
        timed = concatenate(
            placed(r.transcript, span.start, span.end)
            for r, span in zip(results, spans, strict=True)
        )
        return Recognition(text, detected, timed.segments)

    async def _next_cut(
        self, audio: bytes, start: float, duration_seconds: float, max_chunk: float
    ) -> float:
        """The end of the chunk from ``start``, from the loudness of its search window only.

        Not bounded by the conversion slots: it decodes a few seconds, and every chunk
        after it waits for it."""
        window = search_window(start, duration_seconds, max_chunk)
        if window is None:
            return duration_seconds
        envelope = await self._converter.envelope(audio, ENVELOPE_STEP_SECONDS, window)
        return next_cut(start, duration_seconds, max_chunk, envelope)


async def _next_cue_cut(loudness: LoudnessAhead, start: float, duration_seconds: float) -> float:
    """The end of the cue-sized chunk from ``start``, from its window's loudness (measured
    ahead, in blocks: ``LoudnessAhead``)."""
    window = cue_search_window(start, duration_seconds)
    if window is None:
        return duration_seconds
    return next_cue_cut(start, duration_seconds, await loudness.window(window))


def _stopped(finished: dict[int, tuple[ChunkSpan, Recognition]]) -> RecognitionStopped:
    """What was recognized before a stop: the finished chunks in the recording's order."""
    ordered = [finished[index] for index in sorted(finished)]
    text = " ".join(part for _, r in ordered if (part := r.text.strip()))
    detected = next((r.language for _, r in ordered if r.language), None)
    timed = concatenate(placed(r.transcript, span.start, span.end) for span, r in ordered)
    seconds = sum(span.length for span, _ in ordered)
    return RecognitionStopped(Recognition(text, detected, timed.segments), seconds)


def _retry_language(language: str | None, hint: str | None, decoded_in: str | None) -> str | None:
    """The language to recognize a degenerate answer again in: the user's Telegram
    language, when the user set none (a set language is what the user speaks) and the
    answer was not already decoded in it (the same request would answer the same)."""
    if language is not None or not hint:
        return None
    if decoded_in and _primary(decoded_in) == _primary(hint):
        return None
    return hint


def _primary(language: str) -> str:
    """``"en-US"``, ``"pt_BR"`` -> ``"en"``, ``"pt"``."""
    return language.strip().lower().replace("_", "-").split("-")[0]


def _most_telling(errors: Sequence[BaseException]) -> BaseException:
    """One chunk failing fails the recording; a permanent failure outranks a transient one."""
    permanent = [e for e in errors if isinstance(e, PortError) and not e.transient]
    return permanent[0] if permanent else errors[0]
