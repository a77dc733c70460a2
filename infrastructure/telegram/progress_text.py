"""What the status message says at each stage, in the user's language: the stage, the
chunks done of the total, the time left and the draft of a long recording."""

from __future__ import annotations

import math

from application.progress import Progress
from application.wording import say


def progress_text(progress: Progress, language_code: str | None) -> str:
    counter = f" ({progress.done}/{progress.total})" if progress.total > 1 else ""
    position = ""
    if progress.queue_position:
        position = say("queue_position", language_code, position=progress.queue_position)
    text = say(f"stage.{progress.stage.value}", language_code, counter=counter, position=position)
    if progress.total > 1 and progress.eta_seconds is not None:
        text += "\n" + say("progress.eta", language_code, minutes=_minutes(progress.eta_seconds))
    if progress.total > 1 and progress.draft:
        text += "\n\n" + say("progress.draft", language_code) + "\n" + progress.draft
    return text


def _minutes(seconds: float) -> int:
    """Whole minutes left, at least 1 (a "0 min" estimate reads as "done")."""
    return max(1, math.ceil(seconds / 60))
