"""The buttons under a long recording's text: the same transcript with times, or as
subtitles, sent from what is stored.

Why this exists: the messenger puts them under the answer and the bot's callback handler
reads them back, so the callback data is written and parsed in one place. A button
carries the output mode and the job's id (``again:<mode>:<job id>``), so a tap needs no
state of its own and a tap retried lands on the same job. Callback data is untrusted
input: anything that does not parse is ``None``, never an error; whether the presser may
use it is the use case's to decide (``application.handlers.stored_outputs``).
"""

from __future__ import annotations

import attrs
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from application.wording import say
from domain.jobs import OutputMode
from domain.outputs import STORED_OUTPUTS

STORED_OUTPUT_PREFIX = "again:"
CALLBACK_DATA_LIMIT = 64  # bytes: Telegram's limit


@attrs.frozen
class StoredOutputTap:
    mode: OutputMode
    job_id: str


def stored_output_data(mode: OutputMode, job_id: str) -> str:
    return f"{STORED_OUTPUT_PREFIX}{mode.value}:{job_id}"


def stored_output_buttons(job_id: str, language_code: str | None) -> InlineKeyboardMarkup | None:
    """One row: "⏱ With timestamps", "🎬 Subtitles (.srt)"; ``None`` for a job id too long
    for Telegram's callback data (the text goes out without buttons)."""
    data = [stored_output_data(mode, job_id) for mode in STORED_OUTPUTS]
    if any(len(d.encode()) > CALLBACK_DATA_LIMIT for d in data):
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(say(f"again.{mode.value}", language_code), callback_data=d)
                for mode, d in zip(STORED_OUTPUTS, data, strict=True)
            ]
        ]
    )


def parse_stored_output(data: str | None) -> StoredOutputTap | None:
    """``again:<mode>:<job id>`` for a mode these buttons offer, else ``None``."""
    if not data or not data.startswith(STORED_OUTPUT_PREFIX):
        return None
    word, _, job_id = data.removeprefix(STORED_OUTPUT_PREFIX).partition(":")
    modes = {mode.value: mode for mode in STORED_OUTPUTS}
    if word not in modes or not job_id:
        return None
    return StoredOutputTap(modes[word], job_id)
