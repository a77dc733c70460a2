"""What a long recording's status message shows while it is recognized.

Why this exists: the user of a long recording should see it advance: chunks done of
the total, the time left (``domain.throughput``: this job's pace once a chunk is done,
the recognizer's learned rate before) and the draft, the text recognized so far in the
recording's order (``domain.cancellation.draft``), growing as chunks arrive. Each chunk
is folded in as soon as it is recognized, so the first chunk's text is shown without
waiting for the others. The messenger throttles the edits.
"""

from __future__ import annotations

from application.progress import Progress, Stage
from application.recognition import ChunkRecognized
from domain.cancellation import draft
from domain.throughput import eta_seconds


class LiveProgress:
    def __init__(self, audio_seconds: float, rate: float | None, started: float) -> None:
        """``rate``: the recognizer's learned seconds per audio second; ``started``: the
        monotonic time recognition began."""
        self._audio_seconds = audio_seconds
        self._rate = rate
        self._started = started
        self._texts: dict[int, str] = {}
        self._total = 0
        self._final_total = False

    def chunk_recognized(self, chunk: ChunkRecognized, now: float) -> Progress:
        self._texts[chunk.index] = chunk.recognition.text
        if not self._final_total:
            self._total = max(self._total, chunk.planned, len(self._texts))
        return self.progress(now)

    def chunks_done(self, done: int, total: int, now: float) -> Progress:
        self._total, self._final_total = total, True
        return self.progress(now)

    def progress(self, now: float) -> Progress:
        done = len(self._texts)
        total = max(self._total, done)
        return Progress(
            Stage.RECOGNIZING,
            done,
            total,
            draft=draft(self._texts),
            eta_seconds=eta_seconds(
                self._rate, self._audio_seconds, now - self._started, done, total
            ),
        )
