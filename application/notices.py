"""What a user is told when no transcript comes: the reason, worded by ``wording``.

Use cases say *why* (a ``Notice``); entrypoints show the words. Exception text never
reaches a user.
"""

from __future__ import annotations

from enum import StrEnum

import attrs

from application.wording import length, say


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
    DELAYED = "delayed"  # the recognizer is down: the job waits, it has not failed
    NOT_A_TRANSCRIPT = "not_a_transcript"  # a loop or hallucination, even after a retry
    STOPPED = "stopped"  # the user pressed Stop; ``charged_minutes`` for what was recognized


@attrs.frozen
class Notice:
    reason: NoticeReason
    needed_minutes: int | None = None
    balance_minutes: int | None = None
    limit_seconds: float | None = None
    limit_bytes: int | None = None
    charged_minutes: int | None = None


def describe(notice: Notice, language_code: str | None = None) -> str:
    """The notice in the user's language (``application.wording``)."""
    return say(
        f"notice.{notice.reason.value}",
        language_code,
        needed=notice.needed_minutes,
        balance=notice.balance_minutes,
        limit=length(notice.limit_seconds or 0, language_code),
        limit_mb=(notice.limit_bytes or 0) // 1_000_000,
        charged=notice.charged_minutes or 0,
    )
