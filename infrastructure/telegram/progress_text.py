"""What the status message says at each stage, in the user's language."""

from __future__ import annotations

from application.progress import Progress
from application.wording import say


def progress_text(progress: Progress, language_code: str | None) -> str:
    counter = f" ({progress.done}/{progress.total})" if progress.total > 1 else ""
    position = ""
    if progress.queue_position:
        position = say("queue_position", language_code, position=progress.queue_position)
    return say(f"stage.{progress.stage.value}", language_code, counter=counter, position=position)
