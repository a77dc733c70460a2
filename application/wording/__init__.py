"""What voicescribe says to users, one module per language (``en``, ``ru``).

Why this exists: the bot's replies, the notices of the use cases and the status messages
were each translated where they were used, with the language chosen three times over.
Here every text has a key, every language module has the same keys, and ``say`` picks
the user's language (by their Telegram language code) with English as the fallback.
A third language is one more module with the same keys, added to ``LANGUAGES``.
"""

from __future__ import annotations

from collections.abc import Mapping

from application.wording import en, ru

DEFAULT = "en"
LANGUAGES: Mapping[str, Mapping[str, str]] = {"en": en.TEXTS, "ru": ru.TEXTS}


def language_of(language_code: str | None) -> str:
    """The language we speak to a user whose Telegram language code is this."""
    prefix = (language_code or "").lower().split("-")[0].split("_")[0]
    return prefix if prefix in LANGUAGES else DEFAULT


def say(key: str, language_code: str | None, **values: object) -> str:
    """The text ``key`` in the user's language, its placeholders filled in."""
    return LANGUAGES[language_of(language_code)][key].format(**values)


def length(seconds: float, language_code: str | None) -> str:
    """30 s, 10 min, 3 h: whole units a person reads at a glance (never "0 minutes")."""
    if seconds < 60:
        return say("unit.seconds", language_code, count=int(seconds))
    if seconds < 3600 or seconds % 3600:
        return say("unit.minutes", language_code, count=int(seconds // 60))
    return say("unit.hours", language_code, count=int(seconds // 3600))
