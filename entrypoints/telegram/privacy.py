"""PTB handlers for the user's data: ``/privacy`` and ``/forget`` (with its confirmation).

Why a module of its own: these commands speak about a user's own data, so in a group
they answer in the private chat, as ``/balance`` does (``groups.answer_privately``), and
``/forget`` erases only after its button is pressed: the command itself only asks.
The button erases the data of whoever presses it, so it cannot reach anyone else's.

A pressed "Yes" is the whole effect of the update: the erasure runs, then the answer
replaces the question. When Telegram takes no answer the handler raises and the inbox
retries the update; the retry finds nothing left to erase, so the counts of the first
run are kept here (per user) and added to the retry's.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application as PtbApplication
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, filters

from application.bootstrap import UseCases
from application.commands import ForgetUserData
from application.handlers.forget import Forgotten
from application.privacy import PrivacyFacts, Storage
from entrypoints.telegram.callback_answers import answer_query
from entrypoints.telegram.groups import answer_privately
from entrypoints.telegram.texts import text

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

FORGET_YES = "forget:yes"
FORGET_NO = "forget:no"
START_FOR_PRIVACY = "privacy"
START_FOR_FORGET = "forget"
NEW_MESSAGES = filters.UpdateType.MESSAGE  # an edited command never runs again


class PrivacyHandlers:
    def __init__(self, app: UseCases, facts: PrivacyFacts) -> None:
        self._app = app
        self._facts = facts
        self._unanswered: dict[int, Forgotten] = {}  # by user: erased, not yet told

    def register(self, ptb: PtbApplication) -> None:  # type: ignore[type-arg]
        """Before the generic callback handler, which would take the buttons otherwise."""
        ptb.add_handler(CommandHandler("privacy", self.on_privacy, filters=NEW_MESSAGES))
        ptb.add_handler(CommandHandler("forget", self.on_forget, filters=NEW_MESSAGES))
        ptb.add_handler(CallbackQueryHandler(self.on_button, pattern=r"^forget:(yes|no)$"))

    async def on_privacy(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        words = privacy_text(self._facts, user.language_code)
        await _answer(message, user, context, words, START_FOR_PRIVACY)

    async def on_forget(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        lang = user.language_code
        words = text("forget.confirm", lang)
        await _answer(
            message, user, context, words, START_FOR_FORGET, keyboard=confirm_keyboard(lang)
        )

    async def on_button(self, update: Update, context: Context) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        lang = user.language_code
        if query.data != FORGET_YES:
            await answer_query(query.answer())
            await _replace(query.edit_message_text(text("forget.cancelled", lang)))
            return
        erased: Forgotten = await self._app.bus.handle(ForgetUserData(user.id))
        earlier = self._unanswered.pop(user.id, None)
        if earlier is not None:
            erased = _together(earlier, erased)
        words = forgotten_text(erased, lang)
        try:
            await answer_query(query.answer())
            if not await _edited(query.edit_message_text(words)):
                await context.bot.send_message(user.id, words)
        except Exception:
            self._unanswered[user.id] = erased  # the retried update tells it
            raise


def confirm_keyboard(language_code: str | None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(text("forget.yes", language_code), callback_data=FORGET_YES),
                InlineKeyboardButton(text("forget.no", language_code), callback_data=FORGET_NO),
            ]
        ]
    )


def privacy_text(facts: PrivacyFacts, language_code: str | None) -> str:
    """``/privacy`` for this configuration, in the user's language."""
    lang = language_code
    days = facts.transcripts_kept_days
    kept = (
        text("privacy.kept_forever", lang)
        if days is None
        else text("privacy.kept_days", lang, days=days)
    )
    audio = (
        text("privacy.audio_here", lang)
        if facts.audio_to is None
        else text("privacy.audio_to", lang, provider=facts.audio_to.value)
    )
    formatted = (
        text("privacy.text_here", lang)
        if not facts.text_to
        else text(
            "privacy.text_to",
            lang,
            providers=", ".join(provider.value for provider in facts.text_to),
            words=facts.format_from_words,
        )
    )
    storage = text(f"privacy.storage.{Storage(facts.storage).value}", lang)
    return text("privacy", lang, kept=kept, audio=audio, text=formatted, storage=storage)


def forgotten_text(erased: Forgotten, language_code: str | None) -> str:
    settings = text("forget.settings" if erased.settings else "forget.no_settings", language_code)
    words = text(
        "forget.done",
        language_code,
        transcripts=erased.transcripts,
        records=erased.records,
        settings=settings,
    )
    if erased.in_progress:
        words += "\n" + text("forget.in_progress", language_code, count=erased.in_progress)
    return words


def _together(first: Forgotten, then: Forgotten) -> Forgotten:
    return Forgotten(
        transcripts=first.transcripts + then.transcripts,
        records=first.records + then.records,
        settings=first.settings or then.settings,
        in_progress=then.in_progress,
    )


async def _answer(
    message: Message,
    user: User,
    context: Context,
    words: str,
    start_parameter: str,
    *,
    keyboard: InlineKeyboardMarkup | None = None,
) -> None:
    """In a private chat, a reply; in a group, to the user alone (``answer_privately``)."""
    if message.chat.type == "private":
        await message.reply_text(words, reply_markup=keyboard)
    else:
        await answer_privately(message, user, context, words, start_parameter, keyboard=keyboard)


async def _edited(editing: Coroutine[Any, Any, object]) -> bool:
    """Whether the question was replaced by the answer (else it is sent anew)."""
    try:
        await editing
    except TelegramError as error:
        log.info("question not replaced by its answer: %s", error)
        return False
    return True


async def _replace(editing: Coroutine[Any, Any, object]) -> None:
    """Replace the question with its answer; a retry finding it replaced is fine."""
    try:
        await editing
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise
