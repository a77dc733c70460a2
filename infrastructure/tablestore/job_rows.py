"""A ``VoiceJob`` as a Tablestore row: its primary key, and its columns without NULLs.

Why this exists: the columns are the job's encoding shared with SQLite
(``infrastructure/records.py``, which also reads rows of other releases tolerantly); what
is Tablestore's own is kept here. The job id and user id go into the primary key (layout in
schema.py), with ``created_us`` to order a user's jobs. Tablestore rows have no NULL, so an
optional field that is ``None`` has no column at all, and a save deletes the columns that
became ``None``. Floats are stored as doubles, so times round-trip exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from domain.jobs import VoiceJob
from infrastructure.records import job_columns, job_from_columns

Key = list[tuple[str, Any]]
_IN_KEY = ("job_id", "user_id")  # columns of the encoding that live in the primary key


def created_us(created_at: float) -> int:
    """The key part that orders a user's jobs: ``created_at`` in whole microseconds."""
    return round(created_at * 1_000_000)


def job_key(job_id: str, user_id: int, created: int) -> Key:
    return [("user_id", user_id), ("created_us", created), ("job_id", job_id)]


def key_of(job: VoiceJob) -> Key:
    return job_key(job.job_id, job.user_id, created_us(job.created_at))


def columns(job: VoiceJob) -> dict[str, Any]:
    """Every attribute column (the key's left out), ``None`` for an optional field without
    a value."""
    return {name: value for name, value in job_columns(job).items() if name not in _IN_KEY}


def present(values: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(name, value) for name, value in values.items() if value is not None]


def from_row(primary_key: Iterable[tuple[str, Any]], attributes: Iterable[Any]) -> VoiceJob:
    """The job of a row; a permanent ``StorageError`` if it cannot be read."""
    cells = {cell[0]: cell[1] for cell in attributes}
    return job_from_columns({**cells, **dict(primary_key)})
