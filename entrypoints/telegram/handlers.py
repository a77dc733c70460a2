"""PTB handlers: thin translations of updates into application commands and back.

Audio goes to ``AcceptVoiceNote`` with the user's settings; commands and the settings
keyboard go to the settings use cases. Nothing here decides anything the domain decides.

What a failed Bot API call means here. The inbox retries an update whose handler raised,
so a handler raises exactly when the update's effect is not complete, and everything it
does before that point is safe to do again:

- A note is accepted whatever Telegram says back. The "Received" status is sent first,
  so that a short note processed inline (inside the accept) still shows its progress
  edits, but its failure is tolerated: the job is then accepted without a status message
  and its answer arrives as a new message. Should the accept itself raise, its status is
  kept for the retried update (in this process), which goes on with the same message: the
  job may be stored with its id already, and no second "Received" is left behind.
- A refusal is the note's whole answer: if the status cannot be edited into it, it is
  sent as a new message, and if that fails too the handler raises; the retry refuses
  again, or, when the refused job is stored (no minutes) and the retry finds it a
  duplicate, sends the refusal this process still owes. The queued position and the
  deletion of a duplicate's status are cosmetic: their failure is only logged.
- A command's reply is its whole effect: a failed reply raises. ``/code`` and ``/yo``
  flip a setting, so before raising they put it back, and the retry flips it once.
  ``/output`` changes nothing itself: it offers the output modes as buttons.
- A settings button sets the value written on it (``keyboards.py``), so a retried tap is
  harmless: the callback is answered (a query answered already, or too old, is not an
  error on a retry) and the keyboard redrawn, and a failed redraw raises.
- A button under a long recording's text sends another output of the stored transcript
  (``SendStoredOutput``): nothing stored changes, so a retried tap only sends it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import attrs
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application as PtbApplication,
)
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from application.bootstrap import UseCases
from application.commands import (
    AcceptVoiceNote,
    SendStoredOutput,
    SetOutput,
    SetRecognitionLanguage,
    SetSetting,
    Setting,
    ToggleSetting,
)
from application.handlers.preferences import is_enabled
from application.handlers.stored_outputs import StoredOutputResult
from application.notices import NoticeReason, describe
from application.progress import Progress, Stage
from application.reports import Acceptance, AcceptOutcome
from domain.jobs import UserStyle
from domain.rate_limit import RateLimit, Window
from entrypoints.telegram.callback_answers import answer_query, redraw_keyboard
from entrypoints.telegram.keyboards import (
    OUTPUT_MENU,
    SETTINGS_BACK,
    language_keyboard,
    output_keyboard,
    packages_keyboard,
    parse_language,
    parse_output,
    parse_setting,
    settings_keyboard,
)
from entrypoints.telegram.media import audio_source
from entrypoints.telegram.origin import forwarded_from
from entrypoints.telegram.texts import balance_line, describe_setting, prices, text
from infrastructure.telegram.delayed_status import DelayedStatus
from infrastructure.telegram.output_buttons import parse_stored_output
from infrastructure.telegram.progress_text import progress_text

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]

MEDIA = filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE | filters.Document.ALL
# What a user may send a bot expecting an answer, that is not audio: answered in private
# chats only (in a group, people talk to each other).
NOT_AUDIO_IN_PRIVATE = (
    filters.UpdateType.MESSAGE  # not an edit: an edited text was answered already
    & filters.ChatType.PRIVATE
    & ((filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.Sticker.ALL)
)
COMMAND_MENU = {
    "help": "what the bot does",
    "balance": "minutes left",
    "buy_minutes": "buy minutes with Telegram Stars",
    "settings": "all settings",
    "language": "recognition language",
    "code": "monospace text, copied with one tap",
    "yo": "keep or replace ё",
    "output": "text, text with times, .txt, .srt or .vtt",
    "privacy": "what is stored, for how long, who sees it",
    "forget": "erase your transcripts and settings",
}


class BotHandlers:
    def __init__(
        self,
        app: UseCases,
        rate_limit: RateLimit,
        clock_now: Callable[[], float],
        delayed_status: DelayedStatus | None = None,
    ) -> None:
        """``delayed_status``: holds a quick note's status back until it is late
        (``STATUS_DELAY_SECONDS``); without it every note's status is sent at once."""
        self._app = app
        self._delayed_status = delayed_status
        self._rate_limit = rate_limit
        self._now = clock_now
        self._windows: dict[int, Window] = {}
        # Status messages of notes whose accept raised, by request id: the retried update
        # uses the same one (the job may be stored with its id already).
        self._unsettled_statuses: dict[str, Message] = {}
        self._unsent_refusals: dict[str, str] = {}  # by request id, until one is sent

    def register(self, ptb: PtbApplication) -> None:  # type: ignore[type-arg]
        commands: dict[str, Handler] = {
            "start": self.on_start,
            "help": self.on_help,
            "balance": self.on_balance,
            "settings": self.on_settings,
            "language": self.on_language,
            "code": self.on_code,
            "yo": self.on_yo,
            "output": self.on_output,
        }
        # Edits are not new requests: an edited command never runs again and an edited
        # note (a caption added) is not accepted again; only new messages are handled.
        new_only = filters.UpdateType.MESSAGE
        for name, handler in commands.items():
            ptb.add_handler(CommandHandler(name, handler, filters=new_only))
        ptb.add_handler(MessageHandler(MEDIA & new_only, self.on_media))
        ptb.add_handler(CallbackQueryHandler(self.on_callback))
        # In a group, a command the bot does not know is another bot's: not a word.
        unknown = filters.COMMAND & new_only & filters.ChatType.PRIVATE
        ptb.add_handler(MessageHandler(unknown, self.on_unknown_command))
        ptb.add_handler(MessageHandler(NOT_AUDIO_IN_PRIVATE, self.on_not_audio))
        ptb.add_error_handler(self.on_error)

    async def on_media(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.chat is None:
            return
        lang = user.language_code
        source = audio_source(message)
        if source is None:
            await message.reply_text(text("unsupported", lang))
            return
        source = attrs.evolve(source, forwarded_from=forwarded_from(message))
        # Over the limit, the note is queued to start later, behind what others send
        # meanwhile, and the status says its place; refused only past the longest deferral.
        allowed, wait, window = self._windows.get(user.id, Window()).defer(
            self._now(),
            self._rate_limit,
        )
        self._windows[user.id] = window
        if not allowed:
            await message.reply_text(text("rate_limited", lang, seconds=max(1, round(wait))))
            return
        style = attrs.evolve(await self._app.preferences.of(user.id), ui_language=lang)
        request_id = f"tg:{message.chat.id}:{message.message_id}"
        status = self._unsettled_statuses.pop(request_id, None)
        received = progress_text(Progress(Stage.RECEIVED), lang)
        delayed = self._delayed_status
        if delayed is not None and (
            status is not None or not delayed.applies_to(source.duration_seconds, wait)
        ):
            delayed = None
        if delayed is not None:
            delayed.show_later(request_id, lambda: _status_reply(message, received))
        elif status is None:
            status = await _status_reply(message, received)
        try:
            outcome = await self._app.bus.handle(
                AcceptVoiceNote(
                    request_id=request_id,
                    user_id=user.id,
                    chat_id=message.chat.id,
                    source=source,
                    style=style,
                    reply_to_message_id=message.message_id,
                    status_message_id=status.message_id if status is not None else None,
                    defer_seconds=wait,
                )
            )
        except Exception:
            if delayed is not None:
                status = await delayed.settle(request_id)
            if status is not None:
                self._unsettled_statuses[request_id] = status  # the retry goes on with it
            raise
        if delayed is not None:
            status = await delayed.settle(request_id)  # shown if the answer was late
        await self._present(request_id, outcome, message, status, lang)

    async def _present(
        self,
        request_id: str,
        outcome: AcceptOutcome,
        message: Message,
        status: Message | None,
        lang: str | None,
    ) -> None:
        """What the accept means to the user; raises only when a refusal reached nobody."""
        refusal = self._unsent_refusals.get(request_id)
        buy = None
        if outcome.acceptance is Acceptance.REJECTED and outcome.notice is not None:
            refusal = describe(outcome.notice, lang)
            if outcome.notice.reason is NoticeReason.INSUFFICIENT_MINUTES:
                buy = packages_keyboard(self._app.billing.packages, lang)
        if refusal is not None:
            if status is None or not await _edit(status, refusal, buy):
                self._unsent_refusals[request_id] = refusal
                await message.reply_text(refusal, reply_markup=buy)  # raises: retried
                if status is not None:
                    await _delete(status)
            self._unsent_refusals.pop(request_id, None)
        elif outcome.acceptance is Acceptance.QUEUED and status is not None:
            queued = Progress(Stage.QUEUED, queue_position=outcome.queue_position)
            await _edit(status, progress_text(queued, lang))
        elif outcome.acceptance is Acceptance.DUPLICATE and status is not None:
            await _delete(status)

    async def on_start(self, update: Update, context: Context) -> None:
        await self._reply(update, "start", prices=self._prices(update))

    async def on_help(self, update: Update, context: Context) -> None:
        await self._reply(update, "help", prices=self._prices(update))

    def _prices(self, update: Update) -> str:
        language = update.effective_user.language_code if update.effective_user else None
        trial = self._app.minutes.trial_minutes
        return prices(trial, self._app.billing.packages, language)

    async def on_unknown_command(self, update: Update, context: Context) -> None:
        await self._reply(update, "unknown_command")

    async def on_not_audio(self, update: Update, context: Context) -> None:
        """A text, photo or sticker in a private chat: silence would feel broken, so one
        line of what the bot does (in groups the bot keeps quiet)."""
        await self._reply(update, "not_audio")

    async def on_balance(self, update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None:
            return
        report = await self._app.reports.balance(user.id)
        lines = [
            text(
                "balance_report",
                user.language_code,
                balance=report.balance,
                used=report.used_this_month,
            )
        ]
        lines += [balance_line(j, user.language_code) for j in report.recent_jobs]
        message = update.effective_message
        if message is not None:
            await message.reply_text("\n".join(lines))

    async def on_settings(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is not None and user is not None:
            style = await self._app.preferences.of(user.id)
            keyboard = settings_keyboard(style, user.language_code)
            await message.reply_text(text("settings", user.language_code), reply_markup=keyboard)

    async def on_language(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is not None and user is not None:
            style = await self._app.preferences.of(user.id)
            keyboard = language_keyboard(user.language_code, style.language)
            prompt = text("language_prompt", user.language_code)
            await message.reply_text(prompt, reply_markup=keyboard)

    async def on_code(self, update: Update, context: Context) -> None:
        await self._toggle(update, Setting.CODE)

    async def on_yo(self, update: Update, context: Context) -> None:
        await self._toggle(update, Setting.YO)

    async def on_output(self, update: Update, context: Context) -> None:
        """The output modes as buttons, each choosing its mode (``SetOutput`` on a tap)."""
        message, user = update.effective_message, update.effective_user
        if message is not None and user is not None:
            style = await self._app.preferences.of(user.id)
            keyboard = output_keyboard(style.output, user.language_code)
            prompt = text("output_prompt", user.language_code)
            await message.reply_text(prompt, reply_markup=keyboard)

    async def on_callback(self, update: Update, context: Context) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        lang = user.language_code
        again = parse_stored_output(query.data)
        if again is not None:
            result = await self._app.bus.handle(SendStoredOutput(again.job_id, user.id, again.mode))
            refused = result is not StoredOutputResult.SENT
            await answer_query(
                query.answer(text(f"again.{result.value}", lang), show_alert=refused)
            )
            return
        output = parse_output(query.data)
        if output is not None:
            style = await self._app.bus.handle(SetOutput(user.id, output))
            await answer_query(query.answer(text("saved", lang)))
            prompt = text("output_prompt", lang)
            keyboard = output_keyboard(style.output, lang)
            await redraw_keyboard(query.edit_message_text(prompt, reply_markup=keyboard))
            return
        tap = parse_setting(query.data)
        understood, language = parse_language(query.data)
        if tap is not None and tap.enabled is not None:
            style = await self._app.bus.handle(SetSetting(user.id, tap.setting, tap.enabled))
        elif tap is not None:
            style = await self._app.bus.handle(ToggleSetting(user.id, tap.setting))
        elif understood:
            style = await self._app.bus.handle(SetRecognitionLanguage(user.id, language))
        elif query.data == "lang:menu":
            await answer_query(query.answer())
            current = (await self._app.preferences.of(user.id)).language
            keyboard = language_keyboard(lang, current)
            prompt = text("language_prompt", lang)
            await redraw_keyboard(query.edit_message_text(prompt, reply_markup=keyboard))
            return
        elif query.data == OUTPUT_MENU:
            await answer_query(query.answer())
            current_output = (await self._app.preferences.of(user.id)).output
            keyboard = output_keyboard(current_output, lang)
            prompt = text("output_prompt", lang)
            await redraw_keyboard(query.edit_message_text(prompt, reply_markup=keyboard))
            return
        elif query.data == SETTINGS_BACK:
            await answer_query(query.answer())
            style = await self._app.preferences.of(user.id)
            await redraw_keyboard(
                query.edit_message_text(
                    text("settings", lang), reply_markup=settings_keyboard(style, lang)
                )
            )
            return
        else:
            await answer_query(query.answer())
            return
        await answer_query(query.answer(text("saved", lang)))
        if isinstance(query.message, Message):
            await redraw_keyboard(
                query.edit_message_text(
                    text("settings", lang), reply_markup=settings_keyboard(style, lang)
                )
            )

    async def on_error(self, update: object, context: Context) -> None:
        log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)

    async def _toggle(self, update: Update, setting: Setting) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        before = await self._app.preferences.of(user.id)
        was = is_enabled(before, setting)
        style: UserStyle = await self._app.bus.handle(SetSetting(user.id, setting, not was))
        try:
            await message.reply_text(describe_setting(setting.value, style, user.language_code))
        except Exception:
            # Unanswered: put the setting back, so the retried command flips it once.
            await self._app.bus.handle(SetSetting(user.id, setting, was))
            raise

    async def _reply(self, update: Update, key: str, **values: object) -> None:
        message, user = update.effective_message, update.effective_user
        if message is not None:
            language = user.language_code if user is not None else None
            await message.reply_text(text(key, language, **values))


async def _status_reply(message: Message, status_text: str) -> Message | None:
    """The note's status message, or ``None`` when Telegram would not take it: the note
    is accepted all the same and answered with new messages."""
    try:
        return await message.reply_text(status_text)
    except TelegramError as error:
        log.warning("no status message for note %s: %s", message.message_id, error)
        return None


async def _edit(
    message: Message, new_text: str, keyboard: InlineKeyboardMarkup | None = None
) -> bool:
    try:
        await message.edit_text(new_text, reply_markup=keyboard)
    except TelegramError as error:
        log.info("status message not edited: %s", error)
        return False
    return True


async def _delete(message: Message) -> None:
    try:
        await message.delete()
    except TelegramError as error:
        log.info("status message not deleted: %s", error)
