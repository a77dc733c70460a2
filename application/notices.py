"""What a user is told when no transcript comes, in plain short sentences per language.

Use cases say *why* (a ``Notice``); entrypoints show the words. Exception text never
reaches a user.
"""

from __future__ import annotations

from enum import StrEnum

import attrs


class NoticeReason(StrEnum):
    NO_SPEECH = "no_speech"
    UNREADABLE = "unreadable"
    TOO_LONG = "too_long"
    EMPTY = "empty"
    INSUFFICIENT_MINUTES = "insufficient_minutes"
    FILE_TOO_LARGE = "file_too_large"
    FILE_UNAVAILABLE = "file_unavailable"
    SERVICE_BUSY = "service_busy"
    INTERNAL = "internal"
    LOW_BALANCE = "low_balance"


@attrs.frozen
class Notice:
    reason: NoticeReason
    needed_minutes: int | None = None
    balance_minutes: int | None = None
    limit_seconds: float | None = None
    limit_bytes: int | None = None


_EN = {
    NoticeReason.NO_SPEECH: "No speech found in this recording.",
    NoticeReason.UNREADABLE: "This file could not be read as audio.",
    NoticeReason.TOO_LONG: "This recording is too long: the limit is {limit}.",
    NoticeReason.EMPTY: "This file is empty.",
    NoticeReason.INSUFFICIENT_MINUTES: (
        "Not enough minutes: this recording needs {needed}, your balance is {balance}. /buy_minutes"
    ),
    NoticeReason.FILE_TOO_LARGE: "This file is too large to download (limit {limit_mb} MB).",
    NoticeReason.FILE_UNAVAILABLE: "The file could not be fetched. Please send it again.",
    NoticeReason.SERVICE_BUSY: "The service is busy right now. Please try again in a minute.",
    NoticeReason.INTERNAL: "Something went wrong on our side. Your minutes were not charged.",
    NoticeReason.LOW_BALANCE: "Heads-up: {balance} minutes left. /buy_minutes to top up.",
}

_RU = {
    NoticeReason.NO_SPEECH: "В этой записи не найдено речи.",
    NoticeReason.UNREADABLE: "Не удалось прочитать этот файл как аудио.",
    NoticeReason.TOO_LONG: "Запись слишком длинная: предел {limit}.",
    NoticeReason.EMPTY: "Файл пустой.",
    NoticeReason.INSUFFICIENT_MINUTES: (
        "Недостаточно минут: нужно {needed}, на балансе {balance}. /buy_minutes"
    ),
    NoticeReason.FILE_TOO_LARGE: "Файл слишком большой для загрузки (предел {limit_mb} МБ).",
    NoticeReason.FILE_UNAVAILABLE: "Не удалось получить файл. Пожалуйста, отправьте его ещё раз.",
    NoticeReason.SERVICE_BUSY: "Сервис сейчас занят. Попробуйте ещё раз через минуту.",
    NoticeReason.INTERNAL: "Что-то пошло не так на нашей стороне. Минуты не списаны.",
    NoticeReason.LOW_BALANCE: "Осталось {balance} мин. Пополнить: /buy_minutes",
}


def describe(notice: Notice, language_code: str | None = None) -> str:
    """The notice in Russian for Russian-speaking users, otherwise in English."""
    russian = (language_code or "").lower().startswith("ru")
    templates = _RU if russian else _EN
    return templates[notice.reason].format(
        needed=notice.needed_minutes,
        balance=notice.balance_minutes,
        limit=_length(notice.limit_seconds or 0, russian),
        limit_mb=(notice.limit_bytes or 0) // 1_000_000,
    )


def _length(seconds: float, russian: bool) -> str:
    """30 s, 10 min, 3 h: whole units a person reads at a glance (never "0 minutes")."""
    if seconds < 60:
        return f"{int(seconds)} {'с' if russian else 's'}"
    if seconds < 3600 or seconds % 3600:
        return f"{int(seconds // 60)} {'мин' if russian else 'min'}"
    return f"{int(seconds // 3600)} {'ч' if russian else 'h'}"
