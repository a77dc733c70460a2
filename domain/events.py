"""Domain events: plain records, in the past tense, of what happened to a job or an account.

Aggregates append them to their own ``events`` list instead of calling anything; the
application's message bus collects and dispatches them after the state has been saved.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Event:
    """Base of every domain event."""


@attrs.frozen
class VoiceAccepted(Event):
    job_id: str
    user_id: int
    duration_seconds: float
    reserved_minutes: int


@attrs.frozen
class JobQueued(Event):
    job_id: str


@attrs.frozen
class JobStarted(Event):
    job_id: str
    attempt: int


@attrs.frozen
class TranscriptDelivered(Event):
    job_id: str
    user_id: int
    characters: int
    language: str | None


@attrs.frozen
class NoSpeechFound(Event):
    job_id: str
    user_id: int


@attrs.frozen
class JobFailed(Event):
    job_id: str
    user_id: int
    reason: str
    caused_by_user: bool = False  # unreadable file, too long, no minutes: nothing to fix


@attrs.frozen
class JobCancelled(Event):
    """The user stopped the job (the Stop button): ``charged_minutes`` for the chunks
    recognized before it stopped, 0 when none were."""

    job_id: str
    user_id: int
    charged_minutes: int


@attrs.frozen
class MinutesReserved(Event):
    user_id: int
    reservation_id: str
    minutes: int


@attrs.frozen
class MinutesCommitted(Event):
    user_id: int
    reservation_id: str
    minutes: int


@attrs.frozen
class MinutesReleased(Event):
    user_id: int
    reservation_id: str
    minutes: int


@attrs.frozen
class MinutesCredited(Event):
    user_id: int
    minutes: int
    reason: str


@attrs.frozen
class MinutesPurchased(Event):
    user_id: int
    charge_id: str
    package_id: str
    minutes: int


@attrs.frozen
class MinutesRefunded(Event):
    user_id: int
    charge_id: str
    minutes: int


@attrs.frozen
class SponsorRanOut(Event):
    """The sponsor's minutes no longer cover the chat's notes: the chat went back to
    ``on request`` with each requester paying, and the sponsor is to be told (once)."""

    chat_id: int
    sponsor_id: int
