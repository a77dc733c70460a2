"""The stored form of a transcript: a JSON-able dict, and reading old rows back.

Why this exists: a delivered transcript is stored (a redelivery must not pay for
recognition again, and a later request for subtitles of the same recording must not either),
and the stores (SQLite, Tablestore) keep plain values. One versioned shape, written and read
here, keeps both stores and every future reader in agreement:

    {"version": 1, "segments": [{"start": 0.0, "end": 2.48, "text": "Hello."}, ...]}

``start``/``end`` are left out of an untimed segment, ``speaker`` out of an unnamed one;
times are kept to the millisecond. A row written before segments were stored has only its
text: ``transcript_from_record(None, text)`` reads it back as one segment without times,
which still delivers as text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from domain.errors import DomainError
from domain.transcript import Segment, Transcript

RECORD_VERSION = 1


class UnreadableTranscriptRecord(DomainError, ValueError):
    """A stored transcript is not in a shape this version can read."""


def transcript_to_record(transcript: Transcript) -> dict[str, Any]:
    """The transcript as plain dicts, lists, strings and numbers (``json.dumps`` takes it)."""
    segments: list[dict[str, Any]] = []
    for segment in transcript.segments:
        item: dict[str, Any] = {}
        if segment.start is not None and segment.end is not None:
            item["start"] = round(segment.start, 3)
            item["end"] = round(segment.end, 3)
        item["text"] = segment.text
        if segment.speaker:
            item["speaker"] = segment.speaker
        segments.append(item)
    return {"version": RECORD_VERSION, "segments": segments}


def transcript_from_record(record: Mapping[str, Any] | None, text: str = "") -> Transcript:
    """The transcript a record holds; with no record (a row from before segments were
    stored), ``text`` as one segment without times. A record of only ``{"text": ...}``
    reads the same way. Raises UnreadableTranscriptRecord."""
    if record is None:
        return Transcript.untimed(text)
    if not isinstance(record, Mapping):
        raise UnreadableTranscriptRecord(f"a transcript record is a mapping, not {record!r}")
    if "segments" not in record:
        legacy = record.get("text", text)
        if not isinstance(legacy, str):
            raise UnreadableTranscriptRecord("a transcript record's text is a string")
        return Transcript.untimed(legacy)
    version = record.get("version", RECORD_VERSION)
    if version != RECORD_VERSION:
        raise UnreadableTranscriptRecord(f"transcript record version {version!r} is unknown")
    items = record["segments"]
    if not isinstance(items, list | tuple):
        raise UnreadableTranscriptRecord("a transcript record's segments are a list")
    try:
        return Transcript(tuple(_segment(item) for item in items))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, UnreadableTranscriptRecord):
            raise
        raise UnreadableTranscriptRecord(f"unreadable transcript record: {exc}") from exc


def transcript_to_json(transcript: Transcript) -> str:
    """The record as compact JSON text (non-ASCII kept as is), for a text column."""
    return json.dumps(transcript_to_record(transcript), ensure_ascii=False, separators=(",", ":"))


def transcript_from_json(data: str | None, text: str = "") -> Transcript:
    """``transcript_from_record`` of JSON text; ``None`` or blank is a row from before
    segments were stored. Raises UnreadableTranscriptRecord."""
    if data is None or not data.strip():
        return transcript_from_record(None, text)
    try:
        record = json.loads(data)
    except ValueError as exc:
        raise UnreadableTranscriptRecord(f"a transcript record is not JSON: {exc}") from exc
    return transcript_from_record(record, text)


def _segment(item: object) -> Segment:
    if not isinstance(item, Mapping):
        raise UnreadableTranscriptRecord(f"a stored segment is a mapping, not {item!r}")
    text = item.get("text", "")
    speaker = item.get("speaker", "")
    if not isinstance(text, str) or not isinstance(speaker, str):
        raise UnreadableTranscriptRecord("a stored segment's text and speaker are strings")
    return Segment(_seconds(item.get("start")), _seconds(item.get("end")), text, speaker)


def _seconds(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UnreadableTranscriptRecord(f"a stored time is a number of seconds, not {value!r}")
    return float(value)
