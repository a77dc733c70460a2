"""Inline keyboards for settings, and the parsing of their callback data.

Callback data is untrusted input: anything that does not parse is ``None``, never an error.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from application.commands import Setting
from domain.jobs import UserStyle
from entrypoints.telegram.texts import LANGUAGES, describe_setting, text

TOGGLE_PREFIX = "set:"
LANGUAGE_PREFIX = "lang:"
AUTO = "auto"


def settings_keyboard(style: UserStyle, language_code: str | None) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                describe_setting(s.value, style, language_code),
                callback_data=f"{TOGGLE_PREFIX}{s.value}",
            )
        ]
        for s in (Setting.CODE, Setting.YO, Setting.OUTPUT)
    ]
    rows.append(
        [
            InlineKeyboardButton(
                describe_setting("language", style, language_code),
                callback_data=f"{LANGUAGE_PREFIX}menu",
            )
        ]
    )
    return InlineKeyboardMarkup(rows)


def language_keyboard(language_code: str | None) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(text("auto", language_code), callback_data=LANGUAGE_PREFIX + AUTO)
    ]
    buttons += [
        InlineKeyboardButton(name, callback_data=LANGUAGE_PREFIX + code)
        for code, name in LANGUAGES.items()
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def parse_toggle(data: str | None) -> Setting | None:
    if not data or not data.startswith(TOGGLE_PREFIX):
        return None
    try:
        return Setting(data.removeprefix(TOGGLE_PREFIX))
    except ValueError:
        return None


def parse_language(data: str | None) -> tuple[bool, str | None]:
    """(understood, language): ``(True, None)`` is "detect automatically"."""
    if not data or not data.startswith(LANGUAGE_PREFIX):
        return False, None
    code = data.removeprefix(LANGUAGE_PREFIX)
    if code == AUTO:
        return True, None
    return (True, code) if code in LANGUAGES else (False, None)
