"""The buttons under a delivered result: Summary, Action items, Translate and More.

Why this exists: the PTB side of ``application.handlers.transcript_actions``. A tap is
translated into ``RunTranscriptAction`` (or, for More's outputs, ``SendStoredOutput``) and
its result sent as HTML-safe messages split like any transcript, replying to the result.
Registered before the generic callback handler (``bot.py``); it takes only ``act:`` data.

A press of someone else's button (in a group, or forwarded) is refused at once with an
alert: the handle is looked up among the presser's own transcripts only. A press that is
allowed is answered "working on it" first (the model may take a while, and Telegram shows a
spinner until the query is answered), then the result follows as messages. A failed send
raises, so the inbox retries the update, and the retry answers from the stored result:
nothing is charged twice.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.ext import Application as PtbApplication
from telegram.ext import CallbackQueryHandler, ContextTypes

from application.bootstrap import UseCases
from application.commands import RunTranscriptAction, SendStoredOutput
from application.handlers.stored_outputs import StoredOutputResult
from application.handlers.transcript_actions import ActionOutcome, ActionStatus
from application.wording import language_of, say
from domain.text import render_messages
from domain.transcript_actions import (
    TRANSLATION_CHOICES,
    ActionRequest,
    TranscriptAction,
    translation_target,
)
from entrypoints.telegram.callback_answers import answer_query, redraw_keyboard
from infrastructure.telegram.action_buttons import (
    ACTION_PREFIX,
    ACTIONS,
    LANGUAGE_NAMES,
    Tap,
    parse_action,
    with_languages,
    with_timed_outputs,
)

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


class TranscriptActionHandlers:
    def __init__(self, app: UseCases) -> None:
        self._app = app

    def register(self, ptb: PtbApplication) -> None:  # type: ignore[type-arg]
        ptb.add_handler(CallbackQueryHandler(self.on_tap, pattern=f"^{ACTION_PREFIX}"))

    async def on_tap(self, update: Update, context: Context) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        lang = user.language_code
        tap = parse_action(query.data)
        actions = self._app.actions
        job = None
        if tap is not None and actions is not None:
            job = await actions.find(tap.handle, user.id)
        if tap is None or actions is None or job is None:
            await answer_query(query.answer(say("action.unavailable", lang), show_alert=True))
            return
        message = query.message if isinstance(query.message, Message) else None
        if tap.tap is Tap.MORE:
            if tap.output is not None:
                sent = await self._app.bus.handle(SendStoredOutput(job.job_id, user.id, tap.output))
                refused = sent is not StoredOutputResult.SENT
                await answer_query(
                    query.answer(say(f"again.{sent.value}", lang), show_alert=refused)
                )
                return
            await answer_query(query.answer(say("action.more_shown", lang)))
            if message is not None:
                markup = with_timed_outputs(message.reply_markup, tap.handle, lang)
                await redraw_keyboard(message.edit_reply_markup(markup))
            return
        if tap.tap is Tap.TRANSLATE:
            target = tap.language or translation_target(job.language, _own_language(lang))
            if target is None:
                await answer_query(query.answer(say("action.pick_language", lang)))
                if message is not None:
                    markup = with_languages(message.reply_markup, tap.handle)
                    await redraw_keyboard(message.edit_reply_markup(markup))
                return
            request = ActionRequest(TranscriptAction.TRANSLATE, target)
        else:
            request = ActionRequest(ACTIONS[tap.tap])
        await answer_query(query.answer(say("action.working", lang)))
        outcome = await self._app.bus.handle(RunTranscriptAction(tap.handle, user.id, request))
        chat_id = message.chat.id if message is not None else user.id
        reply_to = message.message_id if message is not None else None
        for html in _messages(outcome, request, lang):
            await _send(context, chat_id, html, reply_to)


def _own_language(language_code: str | None) -> str:
    """The language a translation goes to by default: the user's own, when we can
    translate to it, else the one the bot speaks to them in."""
    base = (language_code or "").lower().split("-")[0].split("_")[0]
    return base if base in TRANSLATION_CHOICES else language_of(language_code)


def _messages(outcome: ActionOutcome, request: ActionRequest, lang: str | None) -> list[str]:
    """The answer to a press as Telegram HTML messages (the result split like any text)."""
    if outcome.result is None:
        text = say(f"action.{outcome.status.value}", lang, minutes=outcome.price)
        return render_messages(text, use_code_tags=False)
    target = request.target_language or ""
    heading = say(
        f"action.heading.{request.action.value}", lang, language=LANGUAGE_NAMES.get(target, target)
    )
    body = f"{heading}\n\n{outcome.result.text}"
    if outcome.result.extractive:
        body = f"{body}\n\n{say('action.extractive', lang)}"
    if outcome.status is ActionStatus.CACHED:
        log.info("action %s answered from the store", request.key)
    return render_messages(body, use_code_tags=False)


async def _send(context: Context, chat_id: int, html: str, reply_to: int | None) -> None:
    """Raises on failure: the update is retried, and the retry answers from the store."""
    reply: Any = None
    if reply_to is not None:
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True)
    await context.bot.send_message(chat_id, html, parse_mode=ParseMode.HTML, reply_parameters=reply)
