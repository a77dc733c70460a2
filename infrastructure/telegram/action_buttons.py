"""The row of buttons under a delivered result (Summary, Action items, Translate, More),
and the rows they open: the languages to translate to, the timestamped outputs.

Why this exists: the messenger puts them under the answer and the bot's callback handler
reads them back, so the callback data is written and parsed in one place. A button carries
what it does and the transcript's opaque handle (``act:<what>:<handle>``, see
``domain.transcript_actions.action_handle``), never the job's id, the chat or the text.
Callback data is untrusted input: anything that does not parse is ``None``, never an error;
whether the presser may use it is the use case's to decide.
"""

from __future__ import annotations

from enum import StrEnum

import attrs
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from application.wording import say
from domain.jobs import OutputMode
from domain.outputs import STORED_OUTPUTS
from domain.transcript_actions import TRANSLATION_CHOICES, TranscriptAction

ACTION_PREFIX = "act:"
CALLBACK_DATA_LIMIT = 64  # bytes: Telegram's limit
LANGUAGE_NAMES = {
    "en": "English",
    "ru": "Русский",
    "es": "Español",
    "de": "Deutsch",
    "fr": "Français",
    "zh": "中文",
}


class Tap(StrEnum):
    SUMMARY = "s"
    ACTION_ITEMS = "a"
    TRANSLATE = "t"  # to the presser's language, or the choice of languages
    MORE = "m"  # the timestamped outputs


ACTIONS = {
    Tap.SUMMARY: TranscriptAction.SUMMARY,
    Tap.ACTION_ITEMS: TranscriptAction.ACTION_ITEMS,
    Tap.TRANSLATE: TranscriptAction.TRANSLATE,
}


@attrs.frozen
class ActionTap:
    """``option``: a translation's language (``t.<lang>``) or a timed output (``m.<mode>``)."""

    tap: Tap
    handle: str
    language: str | None = None
    output: OutputMode | None = None


def action_buttons(
    handle: str, language_code: str | None, *, with_model: bool, with_times: bool
) -> InlineKeyboardMarkup:
    """One row: Summary, and with a language model Action items and Translate; More when
    the transcript kept its times."""
    taps = [Tap.SUMMARY]
    if with_model:
        taps += [Tap.ACTION_ITEMS, Tap.TRANSLATE]
    if with_times:
        taps.append(Tap.MORE)
    row = [
        InlineKeyboardButton(
            say(f"action.{tap.name.lower()}", language_code), callback_data=_data(tap.value, handle)
        )
        for tap in taps
    ]
    return InlineKeyboardMarkup([row])


def with_languages(markup: InlineKeyboardMarkup | None, handle: str) -> InlineKeyboardMarkup:
    """``markup`` with a row of languages to translate to added under it."""
    row = [
        InlineKeyboardButton(LANGUAGE_NAMES[code], callback_data=_data(f"t.{code}", handle))
        for code in TRANSLATION_CHOICES
    ]
    return _added(markup, row)


def with_timed_outputs(
    markup: InlineKeyboardMarkup | None, handle: str, language_code: str | None
) -> InlineKeyboardMarkup:
    """``markup`` with the stored outputs' row ("With timestamps", "Subtitles") added."""
    row = [
        InlineKeyboardButton(
            say(f"again.{mode.value}", language_code),
            callback_data=_data(f"m.{mode.value}", handle),
        )
        for mode in STORED_OUTPUTS
    ]
    return _added(markup, row)


def parse_action(data: str | None) -> ActionTap | None:
    """``act:<s|a|t|m>[.<option>]:<handle>``, else ``None``."""
    if not data or not data.startswith(ACTION_PREFIX) or len(data.encode()) > CALLBACK_DATA_LIMIT:
        return None
    what, _, handle = data.removeprefix(ACTION_PREFIX).partition(":")
    word, _, option = what.partition(".")
    try:
        tap = Tap(word)
    except ValueError:
        return None
    if not handle or not handle.isalnum():
        return None
    if not option:
        return ActionTap(tap, handle)
    if tap is Tap.TRANSLATE and option in TRANSLATION_CHOICES:
        return ActionTap(tap, handle, language=option)
    modes = {mode.value: mode for mode in STORED_OUTPUTS}
    if tap is Tap.MORE and option in modes:
        return ActionTap(tap, handle, output=modes[option])
    return None


def _data(what: str, handle: str) -> str:
    return f"{ACTION_PREFIX}{what}:{handle}"


def _added(
    markup: InlineKeyboardMarkup | None, row: list[InlineKeyboardButton]
) -> InlineKeyboardMarkup:
    """The rows of ``markup`` (that do not already hold this row's first button), then ``row``."""
    rows = [list(r) for r in (markup.inline_keyboard if markup else ())]
    first = row[0].callback_data
    rows = [r for r in rows if not any(b.callback_data == first for b in r)]
    return InlineKeyboardMarkup([*rows, row])
