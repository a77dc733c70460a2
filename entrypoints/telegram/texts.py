"""The bot's words for a reply: ``application.wording`` by key, and how a setting reads.

``LANGUAGES`` are the recognition languages a user can pick (not the bot's own)."""

from __future__ import annotations

from application.wording import say
from domain.jobs import OutputMode, UserStyle

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


def describe_setting(key: str, style: UserStyle, language_code: str | None) -> str:
    if key == "language":
        state = LANGUAGES.get(style.language or "", text("auto", language_code))
    elif key == "output":
        state = text("as_file" if style.output is OutputMode.FILE else "as_messages", language_code)
    else:
        enabled = style.use_code_tags if key == "code" else style.use_yo
        state = text("on" if enabled else "off", language_code)
    return text(key, language_code, state=state)
