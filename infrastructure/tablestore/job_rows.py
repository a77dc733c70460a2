"""A ``VoiceJob`` as Tablestore columns and back.

Why this exists: Tablestore rows have no NULL and no nested values. Value objects (source,
style) are stored as JSON with enums by value, as in SQLite, and read back tolerantly (keys
of a newer or older release are dropped or defaulted); an optional field that is ``None``
has no column at all, so a save deletes the columns that became ``None``.
Floats are stored as doubles, so times round-trip exactly. A row that cannot be read back
(a missing column, bad JSON) is a permanent ``StorageError``, never a half-built job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from application.errors import StorageError
from domain.jobs import AudioSource, JobStatus, MediaKind, OutputMode, UserStyle, VoiceJob

OPTIONAL = (
    "reply_to_message_id",
    "status_message_id",
    "lease_expires_at",
    "language",
    "transcript",
    "error",
)
Key = list[tuple[str, Any]]


def created_us(created_at: float) -> int:
    """The key part that orders a user's jobs: ``created_at`` in whole microseconds."""
    return round(created_at * 1_000_000)


def job_key(job_id: str, user_id: int, created: int) -> Key:
    return [("user_id", user_id), ("created_us", created), ("job_id", job_id)]


def key_of(job: VoiceJob) -> Key:
    return job_key(job.job_id, job.user_id, created_us(job.created_at))


def columns(job: VoiceJob) -> dict[str, Any]:
    """Every attribute column, ``None`` for an optional field without a value."""
    return {
        "chat_id": job.chat_id,
        "source": json.dumps(attrs.asdict(job.source), sort_keys=True),
        "duration_seconds": float(job.duration_seconds),
        "reserved_minutes": job.reserved_minutes,
        "style": style_to_json(job.style),
        "created_at": float(job.created_at),
        "updated_at": float(job.updated_at),
        "status": job.status.value,
        "attempts": job.attempts,
        "reply_to_message_id": job.reply_to_message_id,
        "status_message_id": job.status_message_id,
        "lease_expires_at": job.lease_expires_at,
        "language": job.language,
        "transcript": job.transcript,
        "error": job.error,
        "version": job.version,
    }


def present(values: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(name, value) for name, value in values.items() if value is not None]


def from_row(primary_key: Iterable[tuple[str, Any]], attributes: Iterable[Any]) -> VoiceJob:
    key = dict(primary_key)
    cells = {cell[0]: cell[1] for cell in attributes}
    try:
        source = _known(AudioSource, json.loads(cells["source"]))
        return VoiceJob(
            job_id=key["job_id"],
            user_id=key["user_id"],
            chat_id=cells["chat_id"],
            source=AudioSource(**{**source, "kind": MediaKind(source["kind"])}),
            duration_seconds=cells["duration_seconds"],
            reserved_minutes=cells["reserved_minutes"],
            style=style_from_json(cells["style"]),
            created_at=cells["created_at"],
            updated_at=cells["updated_at"],
            status=JobStatus(cells["status"]),
            attempts=cells["attempts"],
            reply_to_message_id=cells.get("reply_to_message_id"),
            status_message_id=cells.get("status_message_id"),
            lease_expires_at=cells.get("lease_expires_at"),
            language=cells.get("language"),
            transcript=cells.get("transcript"),
            error=cells.get("error"),
            version=cells["version"],
        )
    except (KeyError, TypeError, ValueError) as error:
        raise StorageError(
            f"job row {key.get('job_id')!r} cannot be read: {error!r}", transient=False
        ) from error


def style_to_json(style: UserStyle) -> str:
    return json.dumps(attrs.asdict(style), sort_keys=True)


def style_from_json(document: str) -> UserStyle:
    """Settings written by any release: unknown keys dropped, missing ones defaulted."""
    values = _known(UserStyle, json.loads(document))
    if "output" in values:
        values["output"] = OutputMode(values["output"])
    return UserStyle(**values)


def _known(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    names = {field.name for field in attrs.fields(cls)}
    return {key: value for key, value in values.items() if key in names}
