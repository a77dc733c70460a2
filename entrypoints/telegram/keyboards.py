"""Inline keyboards for settings, and the parsing of their callback data.

A settings button carries the value it sets (``set:code:on``), not "flip": the same tap
handled twice (an update retried after a failed redraw, a second tap on a keyboard not
yet redrawn) must land on the same value. Keyboards sent before this carry ``set:code``,
which still flips. Callback data is untrusted input: anything that does not parse is
``None``, never an error.
"""

from __future__ import annotations

import attrs
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from application.commands import Setting
from application.handlers.preferences import is_enabled
from domain.jobs import UserStyle
from entrypoints.telegram.texts import LANGUAGES, describe_setting, text

TOGGLE_PREFIX = "set:"
LANGUAGE_PREFIX = "lang:"
AUTO = "auto"
# The words a button's data uses for a setting's (off, on) values.
VALUE_WORDS = {
    Setting.CODE: ("off", "on"),
    Setting.YO: ("off", "on"),
    Setting.OUTPUT: ("messages", "file"),
}


@attrs.frozen
class SettingTap:
    """A tap on a settings button: the value to set, or ``None`` for an old keyboard's
    "flip" button."""

    setting: Setting
    enabled: bool | None


def setting_data(setting: Setting, enabled: bool) -> str:
    """The callback data of a button that sets ``setting`` to ``enabled``."""
    return f"{TOGGLE_PREFIX}{setting.value}:{VALUE_WORDS[setting][enabled]}"


def settings_keyboard(style: UserStyle, language_code: str | None) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                describe_setting(s.value, style, language_code),
                callback_data=setting_data(s, not is_enabled(style, s)),
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


def parse_setting(data: str | None) -> SettingTap | None:
    """``set:<setting>:<value>`` (or an old keyboard's ``set:<setting>``), else ``None``."""
    if not data or not data.startswith(TOGGLE_PREFIX):
        return None
    name, _, word = data.removeprefix(TOGGLE_PREFIX).partition(":")
    try:
        setting = Setting(name)
    except ValueError:
        return None
    if not word and not data.endswith(":"):
        return SettingTap(setting, None)
    words = VALUE_WORDS[setting]
    return SettingTap(setting, words.index(word) == 1) if word in words else None


def parse_language(data: str | None) -> tuple[bool, str | None]:
    """(understood, language): ``(True, None)`` is "detect automatically"."""
    if not data or not data.startswith(LANGUAGE_PREFIX):
        return False, None
    code = data.removeprefix(LANGUAGE_PREFIX)
    if code == AUTO:
        return True, None
    return (True, code) if code in LANGUAGES else (False, None)
