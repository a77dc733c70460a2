"""The Stop button under a job's status message: written here, parsed back here.

Why this exists: the messenger puts the button on the status message while the job can
still be stopped, and the bot's callback handler reads it back, so the callback data is
written and parsed in one place. It carries only the job's id (``stop:<job id>``);
whether the presser may stop that job is the use case's to decide
(``application.handlers.stop_job``). Callback data is untrusted input: anything that
does not parse is ``None``, never an error.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from application.wording import say

STOP_PREFIX = "stop:"
CALLBACK_DATA_LIMIT = 64  # bytes: Telegram's limit


def stop_data(job_id: str) -> str:
    return f"{STOP_PREFIX}{job_id}"


def stop_button(job_id: str, language_code: str | None) -> InlineKeyboardMarkup | None:
    """ "⏹ Stop" for the job; ``None`` for a job id too long for Telegram's callback data."""
    data = stop_data(job_id)
    if len(data.encode()) > CALLBACK_DATA_LIMIT:
        return None
    label = say("stop.button", language_code)
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


def parse_stop(data: str | None) -> str | None:
    """The job id of ``stop:<job id>``, else ``None``."""
    if not data or not data.startswith(STOP_PREFIX):
        return None
    job_id = data.removeprefix(STOP_PREFIX)
    if not job_id or len(data.encode()) > CALLBACK_DATA_LIMIT:
        return None
    return job_id
