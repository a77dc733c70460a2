"""Which notice a user gets for each port error, and whether the job may be tried again."""

from __future__ import annotations

from application.errors import (
    AudioUnreadable,
    EmptyAudio,
    FileTooLarge,
    FileUnavailable,
    PortError,
    StorageError,
)
from application.notices import Notice, NoticeReason


def notice_for(error: BaseException) -> Notice:
    if isinstance(error, FileTooLarge):
        return Notice(NoticeReason.FILE_TOO_LARGE, limit_bytes=error.limit_bytes)
    if isinstance(error, FileUnavailable):
        return Notice(NoticeReason.FILE_UNAVAILABLE)
    if isinstance(error, EmptyAudio):
        return Notice(NoticeReason.EMPTY)
    if isinstance(error, AudioUnreadable):
        return Notice(NoticeReason.UNREADABLE)
    if isinstance(error, StorageError) or is_transient(error):
        return Notice(NoticeReason.SERVICE_BUSY)
    return Notice(NoticeReason.INTERNAL)


def is_transient(error: BaseException) -> bool:
    return isinstance(error, PortError) and error.transient
