"""The Buy buttons: one per Stars package, a tap asks the bot for that package's invoice.

Why this exists: "not enough minutes" carries them wherever it is said: by the bot's
handlers when a note is refused at acceptance, and by the messenger when a job's measured
length raised its price beyond the balance later. The payment handlers read the callback
data back (``BUY_PREFIX`` and the package id).
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from application.wording import say
from domain.catalogue import Package

BUY_PREFIX = "buy:"


def buy_buttons(packages: Sequence[Package], language_code: str | None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    say("package", language_code, minutes=p.minutes, stars=p.stars),
                    callback_data=f"{BUY_PREFIX}{p.package_id}",
                )
            ]
            for p in packages
        ]
    )
