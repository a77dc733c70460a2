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
