"""The bot's words for a reply: ``application.wording`` by key, and how a setting reads.

``LANGUAGES`` are the recognition languages a user can pick (not the bot's own)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from application.wording import length, say
from domain.catalogue import Package
from domain.jobs import JobStatus, UserStyle, VoiceJob

LANGUAGES = {
    "en": "English",
    "ru": "Русский",
    "uk": "Українська",
    "de": "Deutsch",
    "es": "Español",
    "fr": "Français",
    "it": "Italiano",
    "pt": "Português",
    "tr": "Türkçe",
    "zh": "中文",
}


def text(key: str, language_code: str | None, **values: object) -> str:
    return say(key, language_code, **values)


def prices(trial_minutes: int, packages: Sequence[Package], language_code: str | None) -> str:
    """What a newcomer is told: the free trial minutes and what minutes cost."""
    listed = ", ".join(
        text("package", language_code, minutes=p.minutes, stars=p.stars) for p in packages
    )
    return text("prices", language_code, trial=trial_minutes, packages=listed)


def job_status(status: JobStatus, language_code: str | None) -> str:
    return text(f"status.{status.value}", language_code)


def balance_line(job: VoiceJob, language_code: str | None) -> str:
    """One recent job in ``/balance``: when, how long, and its state, in local words."""
    return text(
        "balance_line",
        language_code,
        when=time.strftime("%d.%m %H:%M", time.gmtime(job.created_at)),
        length=length(job.duration_seconds, language_code),
        status=job_status(job.status, language_code),
    )


def describe_setting(key: str, style: UserStyle, language_code: str | None) -> str:
    if key == "language":
        state = LANGUAGES.get(style.language or "", text("auto", language_code))
    elif key == "output":
        state = text(f"as_{style.output.value}", language_code)
    else:
        enabled = style.use_code_tags if key == "code" else style.use_yo
        state = text("on" if enabled else "off", language_code)
    return text(key, language_code, state=state)
