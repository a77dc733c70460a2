"""What the status message says at each stage, in Russian or English."""

from __future__ import annotations

from application.progress import Progress, Stage

_EN = {
    Stage.RECEIVED: "🎧 Received. Getting to work…",
    Stage.QUEUED: "⏳ In the queue{position}…",
    Stage.CONVERTING: "🔄 Preparing the audio…",
    Stage.RECOGNIZING: "📝 Recognizing speech{counter}…",
    Stage.FORMATTING: "✍️ Formatting the text…",
}
_RU = {
    Stage.RECEIVED: "🎧 Получено. Начинаю…",
    Stage.QUEUED: "⏳ В очереди{position}…",
    Stage.CONVERTING: "🔄 Готовлю аудио…",
    Stage.RECOGNIZING: "📝 Распознаю речь{counter}…",
    Stage.FORMATTING: "✍️ Оформляю текст…",
}


def progress_text(progress: Progress, language_code: str | None) -> str:
    russian = (language_code or "").lower().startswith("ru")
    template = (_RU if russian else _EN)[progress.stage]
    counter = f" ({progress.done}/{progress.total})" if progress.total > 1 else ""
    position = ""
    if progress.queue_position:
        position = f", {'место' if russian else 'position'} {progress.queue_position}"
    return template.format(counter=counter, position=position)
