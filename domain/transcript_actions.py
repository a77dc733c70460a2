"""What can be done with a delivered transcript (summary, action items, translation), what
it costs, and how its buttons and results are named.

Why this exists: under a delivered text the user finds buttons that work on the stored
transcript, never on the audio again. Their price, the key a result is cached under, the
reservation its minutes are booked under and the opaque handle the buttons carry are
decisions, kept here as pure functions so the ledger's guarantees (charged once, released
on failure) are the same as a recording's and can be checked by property tests.
"""

from __future__ import annotations

import hashlib
import math
from enum import StrEnum

import attrs

# One action costs this many minutes per started half hour of audio (the default of
# ``ACTION_MINUTES_PER_30_MIN``).
DEFAULT_ACTION_MINUTES_PER_30_MIN = 1
PRICING_BLOCK_SECONDS = 30 * 60
# A handle is this many hex digits of a hash of the job's id: 64 bits, opaque to whoever
# sees the button, and short enough for Telegram's 64 bytes of callback data.
HANDLE_DIGITS = 16
# The languages offered for a translation when the text is already in the user's own.
TRANSLATION_CHOICES = ("en", "ru", "es", "de", "fr", "zh")


class TranscriptAction(StrEnum):
    SUMMARY = "summary"
    ACTION_ITEMS = "action_items"
    TRANSLATE = "translate"


# The actions whose only way is a language model: not offered without one (the summary
# has an extractive fallback).
NEEDS_MODEL = frozenset({TranscriptAction.ACTION_ITEMS, TranscriptAction.TRANSLATE})


@attrs.frozen
class ActionRequest:
    """One action on one transcript; ``target_language`` only for a translation."""

    action: TranscriptAction
    target_language: str | None = None

    @property
    def key(self) -> str:
        """What its result is stored and cached under, with the transcript's job id."""
        if self.action is TranscriptAction.TRANSLATE:
            return f"{self.action.value}:{self.target_language or ''}"
        return self.action.value


@attrs.frozen
class ActionResult:
    """A stored result: ``provider`` is the model that wrote it, or ``extractive`` for the
    offline summary; ``prompt_version`` the prompts it was asked with."""

    job_id: str
    key: str
    user_id: int
    text: str
    provider: str
    prompt_version: int
    created_at: float

    @property
    def extractive(self) -> bool:
        return self.provider == EXTRACTIVE


EXTRACTIVE = "extractive"


def action_minutes(duration_seconds: float, minutes_per_30_min: int) -> int:
    """Minutes one action costs: ``minutes_per_30_min`` per started 30 minutes of audio, at
    least one block (a transcript of no length still took a request). Monotone in the
    duration and in the rate."""
    if not math.isfinite(duration_seconds) or duration_seconds < 0:
        raise ValueError(f"duration must be a finite non-negative number, got {duration_seconds}")
    if minutes_per_30_min < 1:
        raise ValueError(f"an action costs at least 1 minute per block, got {minutes_per_30_min}")
    blocks = max(1, math.ceil(duration_seconds / PRICING_BLOCK_SECONDS))
    return blocks * minutes_per_30_min


def reservation_id(job_id: str, request: ActionRequest) -> str:
    """The minutes of one action on one transcript are booked under this id: one
    reservation per result, so a result is charged at most once."""
    return f"{job_id}#{request.key}"


def action_handle(job_id: str) -> str:
    """The opaque id a transcript's buttons carry instead of its job id (which names the
    chat and the message)."""
    return hashlib.sha256(job_id.encode()).hexdigest()[:HANDLE_DIGITS]


def translation_target(transcript_language: str | None, ui_language: str | None) -> str | None:
    """The language a translation goes to at once: the user's interface language, unless
    the text is already in it (or either is unknown): then ``None``, a choice is offered."""
    ui = _base(ui_language)
    if ui is None or ui == _base(transcript_language):
        return None
    return ui


def _base(language: str | None) -> str | None:
    """``en-US`` → ``en``; ``None`` for no language."""
    if not language:
        return None
    return language.split("-")[0].split("_")[0].lower() or None
