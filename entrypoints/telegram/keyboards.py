"""Inline keyboards for settings, and the parsing of their callback data.

A settings button carries the value it sets (``set:code:on``), not "flip": the same tap
handled twice (an update retried after a failed redraw, a second tap on a keyboard not
yet redrawn) must land on the same value. Keyboards sent before this carry ``set:code``,
which still flips. The output has more than two values: its buttons carry the mode they
choose (``set:output:srt``); the two an older keyboard carries (``messages``, ``file``)
are modes of the same names. Callback data is untrusted input: anything that does not parse is
``None``, never an error.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from application.commands import ChatSetting, Setting
from application.handlers.preferences import is_enabled
from domain.catalogue import Package
from domain.chats import Chat, ChatMode
from domain.jobs import OutputMode, UserStyle
from entrypoints.telegram.texts import LANGUAGES, describe_setting, text
from infrastructure.telegram.buy_buttons import buy_buttons

TOGGLE_PREFIX = "set:"
LANGUAGE_PREFIX = "lang:"
AUTO = "auto"
BACK = "back"  # ``lang:back``: from the language (or output) menu back to the settings
SETTINGS_BACK = LANGUAGE_PREFIX + BACK
OUTPUT_MENU = "output:menu"  # the settings' output row: opens the output modes
OUTPUT_PREFIX = f"{TOGGLE_PREFIX}{Setting.OUTPUT.value}:"
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
    """The two-valued settings (each button sets the other value), then the output and
    the language, each opening its own menu."""
    rows = [
        [
            InlineKeyboardButton(
                describe_setting(s.value, style, language_code),
                callback_data=setting_data(s, not is_enabled(style, s)),
            )
        ]
        for s in (Setting.CODE, Setting.YO)
    ]
    for key, data in (("output", OUTPUT_MENU), ("language", f"{LANGUAGE_PREFIX}menu")):
        label = describe_setting(key, style, language_code)
        rows.append([InlineKeyboardButton(label, callback_data=data)])
    return InlineKeyboardMarkup(rows)


def output_data(mode: OutputMode) -> str:
    """The callback data of the button that chooses ``mode``: ``set:output:<mode>``."""
    return OUTPUT_PREFIX + mode.value


def output_keyboard(current: OutputMode, language_code: str | None) -> InlineKeyboardMarkup:
    """The output modes, one a row, the ``current`` one marked, and a Back button to the
    settings."""

    def button(mode: OutputMode) -> InlineKeyboardButton:
        name = text(f"as_{mode.value}", language_code)
        label = text("current", language_code, name=name) if mode is current else name
        return InlineKeyboardButton(label, callback_data=output_data(mode))

    rows = [[button(mode)] for mode in OutputMode]
    rows.append([InlineKeyboardButton(text("back", language_code), callback_data=SETTINGS_BACK)])
    return InlineKeyboardMarkup(rows)


def parse_output(data: str | None) -> OutputMode | None:
    """``set:output:<mode>`` (an older keyboard's ``messages`` and ``file`` included), else
    ``None``."""
    if not data or not data.startswith(OUTPUT_PREFIX):
        return None
    try:
        return OutputMode(data.removeprefix(OUTPUT_PREFIX))
    except ValueError:
        return None


def language_keyboard(
    language_code: str | None, current: str | None = None
) -> InlineKeyboardMarkup:
    """The recognition languages, the ``current`` one (``None``: automatic) marked, and a
    Back button to the settings."""

    def button(name: str, code: str) -> InlineKeyboardButton:
        chosen = code == (current or AUTO)
        label = text("current", language_code, name=name) if chosen else name
        return InlineKeyboardButton(label, callback_data=LANGUAGE_PREFIX + code)

    buttons = [button(text("auto", language_code), AUTO)]
    buttons += [button(name, code) for code, name in LANGUAGES.items()]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [InlineKeyboardButton(text("back", language_code), callback_data=LANGUAGE_PREFIX + BACK)]
    )
    return InlineKeyboardMarkup(rows)


def packages_keyboard(
    packages: Sequence[Package], language_code: str | None
) -> InlineKeyboardMarkup:
    """One Buy button per package: a tap sends its invoice (``PaymentHandlers.on_buy``)."""
    return buy_buttons(packages, language_code)


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


# A group's settings: ``chat:<setting>:<on|off>``, the value the tap sets (as above).
CHAT_PREFIX = "chat:"
CHAT_VALUE_WORDS = ("off", "on")


@attrs.frozen
class ChatSettingTap:
    setting: ChatSetting
    enabled: bool


def chat_setting_data(setting: ChatSetting, enabled: bool) -> str:
    return f"{CHAT_PREFIX}{setting.value}:{CHAT_VALUE_WORDS[enabled]}"


def chat_setting_enabled(chat: Chat, setting: ChatSetting) -> bool:
    if setting is ChatSetting.AUTO:
        return chat.mode is ChatMode.AUTO
    if setting is ChatSetting.SILENT:
        return chat.silent
    if setting is ChatSetting.FILES:
        return chat.include_files
    return chat.sponsor_id is not None


def describe_chat_setting(chat: Chat, setting: ChatSetting, language_code: str | None) -> str:
    """One line of a group's settings, as its button reads."""
    enabled = chat_setting_enabled(chat, setting)
    if setting is ChatSetting.AUTO:
        state = text(f"chat.mode.{chat.mode.value}", language_code)
        return text("chat.mode", language_code, state=state)
    if setting is ChatSetting.SPONSOR:
        state = text(f"chat.payer.{chat.payer.value}", language_code)
        return text("chat.payer", language_code, state=state)
    key = "chat.silent" if setting is ChatSetting.SILENT else "chat.files"
    return text(key, language_code, state=text("on" if enabled else "off", language_code))


def chat_settings_keyboard(chat: Chat, language_code: str | None) -> InlineKeyboardMarkup:
    """A group's settings, one button each, every button setting the other value."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    describe_chat_setting(chat, s, language_code),
                    callback_data=chat_setting_data(s, not chat_setting_enabled(chat, s)),
                )
            ]
            for s in (ChatSetting.AUTO, ChatSetting.SILENT, ChatSetting.FILES, ChatSetting.SPONSOR)
        ]
    )


def parse_chat_setting(data: str | None) -> ChatSettingTap | None:
    """``chat:<setting>:<on|off>``, else ``None`` (untrusted input: never an error)."""
    if not data or not data.startswith(CHAT_PREFIX):
        return None
    name, _, word = data.removeprefix(CHAT_PREFIX).partition(":")
    try:
        setting = ChatSetting(name)
    except ValueError:
        return None
    if word not in CHAT_VALUE_WORDS:
        return None
    return ChatSettingTap(setting, word == "on")
