"""Recordings uploaded through the Mini App: what may be started, appended and kept.

Pure decisions for ``application.handlers.uploads``: an upload declares its size up front
(at most ``MAX_UPLOAD_MB``), takes bytes only from the offset storage already holds (so a
dropped connection resumes where the last acknowledged byte ended, and a stale or
duplicated chunk is refused rather than written twice), never takes more than it declared,
and is removed once its job is settled or, abandoned, after the retention time.
"""

from __future__ import annotations

from enum import StrEnum

AUDIO_EXTENSIONS = (".ogg", ".oga", ".opus", ".mp3", ".m4a", ".wav", ".flac", ".aac", ".amr")
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".3gp")


class StartRefusal(StrEnum):
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_A_RECORDING = "not_a_recording"


def is_recording(mime_type: object, file_name: object) -> bool:
    """Audio or video by MIME type, else by extension; fields of any other type mean no.
    The same files the bot accepts in a chat."""
    if isinstance(mime_type, str) and mime_type.split("/", 1)[0] in ("audio", "video"):
        return True
    name = file_name.lower() if isinstance(file_name, str) else ""
    return name.endswith(AUDIO_EXTENSIONS + VIDEO_EXTENSIONS)


def start_refusal(
    size: int, max_bytes: int, mime_type: object, file_name: object
) -> StartRefusal | None:
    """Why an upload of this declared size and type may not start, or None."""
    if size <= 0:
        return StartRefusal.EMPTY
    if size > max_bytes:
        return StartRefusal.TOO_LARGE
    if not is_recording(mime_type, file_name):
        return StartRefusal.NOT_A_RECORDING
    return None


def may_append(received: int, size: int, offset: int) -> bool:
    """Bytes sent from ``offset`` are taken only where storage's bytes end, and only while
    the upload is not complete."""
    return offset == received and received < size


def room_left(received: int, size: int) -> int:
    """How many more bytes the upload may take: a stream that brings more is refused."""
    return max(0, size - received)


def is_complete(received: int, size: int) -> bool:
    return received == size


def should_remove(
    *,
    created_at: float,
    now: float,
    retention_seconds: float,
    job_settled: bool,
) -> bool:
    """An upload's bytes go once its job is settled (delivered, failed, silent), or when
    it was never finished (or its job never settles) within the retention time."""
    return job_settled or now - created_at > retention_seconds
