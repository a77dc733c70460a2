"""Stages a job goes through, reported to the user while they wait."""

from __future__ import annotations

from enum import StrEnum

import attrs


class Stage(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    CONVERTING = "converting"
    RECOGNIZING = "recognizing"
    FORMATTING = "formatting"


@attrs.frozen
class Progress:
    stage: Stage
    done: int = 0
    total: int = 0
    queue_position: int | None = None
    # A long recording's text recognized so far, in order (``domain.cancellation.draft``),
    # and the seconds left by measured throughput (``domain.throughput``); None: unknown.
    draft: str = ""
    eta_seconds: float | None = None

    @property
    def stoppable(self) -> bool:
        """Whether the Stop button is offered: until the text is complete."""
        return self.stage in STOPPABLE_STAGES


STOPPABLE_STAGES = frozenset({Stage.RECEIVED, Stage.QUEUED, Stage.CONVERTING, Stage.RECOGNIZING})
