"""The one codec for the records every store keeps: a ``VoiceJob``, and a ``UserStyle``
(inside a job, and as a user's settings row).

Why this exists: SQLite and Tablestore store the same records, and a record's encoding
must not depend on which store holds it. A record becomes flat named values (its
columns): scalars as they are, enums by value, value objects (source, style) as JSON with
sorted keys, and ``None`` for an optional field without a value (a store that has no NULL
leaves the column out; ``OPTIONAL_JOB_COLUMNS`` says which may be absent); a job's timed
segments are one column holding a ``domain.transcript_records`` record. Reading is
tolerant of other releases: keys a newer release added (in the columns or in the JSON) are
ignored and keys an older one lacked take their defaults, so a rolling upgrade or a
rollback never turns a stored row unreadable. A row that still cannot be read (a required
column missing, bad JSON, an unknown status) is a permanent ``StorageError``, never a
half-built record. Keys and indexes (which columns a store looks rows up by) are the
stores' own business, not this module's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from application.errors import StorageError
from domain.jobs import AudioSource, JobStatus, MediaKind, OutputMode, UserStyle, VoiceJob
from domain.transcript import Segment, Transcript
from domain.transcript_records import transcript_from_json, transcript_to_json

JOB_COLUMNS = (
    "job_id",
    "user_id",
    "chat_id",
    "source",
    "duration_seconds",
    "reserved_minutes",
    "style",
    "created_at",
    "updated_at",
    "status",
    "attempts",
    "reply_to_message_id",
    "status_message_id",
    "lease_expires_at",
    "language",
    "transcript",
    "error",
    "outage_since",
    "parts_sent",
    "segments",
    "version",
)
# The job's fields that may hold no value: ``None`` when encoded, and possibly absent when
# read (a store without NULL, or a row from before the field existed).
OPTIONAL_JOB_COLUMNS = (
    "reply_to_message_id",
    "status_message_id",
    "lease_expires_at",
    "language",
    "transcript",
    "error",
    "outage_since",
    "segments",
)


def job_columns(job: VoiceJob) -> dict[str, Any]:
    """Every column of ``job`` (``JOB_COLUMNS``); events are not stored."""
    return {
        "job_id": job.job_id,
        "user_id": job.user_id,
        "chat_id": job.chat_id,
        "source": source_to_json(job.source),
        "duration_seconds": float(job.duration_seconds),
        "reserved_minutes": job.reserved_minutes,
        "style": style_to_json(job.style),
        "created_at": float(job.created_at),
        "updated_at": float(job.updated_at),
        "status": job.status.value,
        "attempts": job.attempts,
        "reply_to_message_id": job.reply_to_message_id,
        "status_message_id": job.status_message_id,
        "lease_expires_at": _optional_float(job.lease_expires_at),
        "language": job.language,
        "transcript": job.transcript,
        "error": job.error,
        "outage_since": _optional_float(job.outage_since),
        "parts_sent": job.parts_sent,
        "segments": segments_to_json(job.segments),
        "version": job.version,
    }


def job_from_columns(columns: Mapping[str, Any]) -> VoiceJob:
    """The job stored as ``columns``; other columns (a store's key parts, a newer release's
    additions) are ignored. Raises a permanent ``StorageError`` for an unreadable row."""
    try:
        return VoiceJob(
            job_id=columns["job_id"],
            user_id=columns["user_id"],
            chat_id=columns["chat_id"],
            source=source_from_json(columns["source"]),
            duration_seconds=columns["duration_seconds"],
            reserved_minutes=columns["reserved_minutes"],
            style=style_from_json(columns["style"]),
            created_at=columns["created_at"],
            updated_at=columns["updated_at"],
            status=JobStatus(columns["status"]),
            attempts=columns["attempts"],
            reply_to_message_id=columns.get("reply_to_message_id"),
            status_message_id=columns.get("status_message_id"),
            lease_expires_at=columns.get("lease_expires_at"),
            language=columns.get("language"),
            transcript=columns.get("transcript"),
            error=columns.get("error"),
            outage_since=columns.get("outage_since"),
            parts_sent=columns.get("parts_sent", 0),
            segments=segments_from_json(columns.get("segments")),
            version=columns["version"],
        )
    except (KeyError, TypeError, ValueError) as error:  # JSONDecodeError is a ValueError
        raise StorageError(
            f"job row {columns.get('job_id')!r} cannot be read: {error!r}", transient=False
        ) from error


def segments_to_json(segments: tuple[Segment, ...]) -> str | None:
    """A job's segments as a transcript record (``domain.transcript_records``); ``None``
    for none (not recognized yet), so a store leaves the column empty."""
    return transcript_to_json(Transcript(segments)) if segments else None


def segments_from_json(document: str | None) -> tuple[Segment, ...]:
    """The segments a job's column holds; none for a row from before segments were kept
    (``VoiceJob.recognized`` then reads its text as one segment without times). Raises
    ``ValueError`` for a record this release cannot read."""
    return transcript_from_json(document).segments if document else ()


def settings_columns(style: UserStyle, updated_at: float) -> dict[str, Any]:
    """A user's settings row without its key."""
    return {"style": style_to_json(style), "updated_at": float(updated_at)}


def settings_from_columns(user_id: int, columns: Mapping[str, Any]) -> UserStyle:
    """The settings stored for ``user_id`` as ``columns``; a permanent ``StorageError`` for
    an unreadable row."""
    try:
        return style_from_json(columns["style"])
    except (KeyError, TypeError, ValueError) as error:
        raise StorageError(
            f"settings row {user_id} cannot be read: {error!r}", transient=False
        ) from error


def style_to_json(style: UserStyle) -> str:
    return json.dumps(attrs.asdict(style), sort_keys=True)


def style_from_json(document: str) -> UserStyle:
    """A style written by any release: unknown keys dropped, missing ones defaulted. Raises
    ``ValueError`` (bad JSON, an unknown output mode) or ``TypeError`` (not an object)."""
    values = _known(UserStyle, json.loads(document))
    if "output" in values:
        values["output"] = OutputMode(values["output"])
    return UserStyle(**values)


def source_to_json(source: AudioSource) -> str:
    return json.dumps(attrs.asdict(source), sort_keys=True)


def source_from_json(document: str) -> AudioSource:
    """A source written by any release: unknown keys dropped, missing optional ones
    defaulted. Raises ``KeyError`` or ``TypeError`` (a required key missing, not an
    object) or ``ValueError`` (bad JSON, an unknown media kind)."""
    values = _known(AudioSource, json.loads(document))
    values["kind"] = MediaKind(values["kind"])
    return AudioSource(**values)


def _known(record: type[attrs.AttrsInstance], document: object) -> dict[str, Any]:
    """The keys of ``document`` that name a field of the attrs class ``record``."""
    if not isinstance(document, dict):
        raise TypeError(f"expected a JSON object for {record.__name__}, got {document!r}")
    names = {field.name for field in attrs.fields(record)}
    return {key: value for key, value in document.items() if key in names}


def _optional_float(value: float | None) -> float | None:
    return None if value is None else float(value)
