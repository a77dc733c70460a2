"""PTB handlers for group and supergroup chats: audio on request or automatically, and a
member's own commands answered privately.

Why a module of its own: in a group the bot is a guest. People talk to each other, so
nothing is answered unless somebody asked the bot (``/transcribe`` replying to audio, or a
note in a chat an admin set to ``auto``); whatever is not audio (a PDF, a GIF, a sticker,
text, a command of another bot) gets no reply at all; and a member's minutes or jobs are
never shown to the group (``/balance`` and ``/buy_minutes`` answer in a private chat, or,
when the member never started the bot and Telegram forbids writing first, with a link to
it). What is transcribed and who pays is the domain's decision (``domain.chats``), made
by the ``GroupChats`` use case; this module only translates updates and presents the
outcome. ``/settings`` in a group (the chat's settings) is handled elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import attrs
from telegram import InlineKeyboardMarkup, Message, ReplyParameters, Update, User
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application as PtbApplication
from telegram.ext import CommandHandler, ContextTypes, MessageHandler, filters

from application.bootstrap import UseCases
from application.commands import AcceptVoiceNote
from application.notices import NoticeReason, describe
from application.progress import Progress, Stage
from application.reports import Acceptance, AcceptOutcome
from domain.chats import Action, ChatType, Decision, Incoming, Reason, Sender, request_key
from domain.jobs import AudioSource
from domain.rate_limit import RateLimit, Window
from entrypoints.telegram.keyboards import packages_keyboard
from entrypoints.telegram.media import audio_source
from entrypoints.telegram.origin import forwarded_from
from entrypoints.telegram.texts import balance_line, text
from infrastructure.telegram.progress_text import progress_text

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]

IN_GROUPS = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE  # new messages, not edits
MEDIA = filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE | filters.Document.ALL
# What each deep link opens in the private chat (``/start <parameter>``).
# The menu Telegram shows in group chats (a scope of its own: a member there needs other
# commands than in private, and /balance is answered privately).
GROUP_COMMAND_MENU = {
    "transcribe": "reply to a voice message: its text",
    "chatsettings": "this chat's mode and who pays (admins)",
    "balance": "your minutes, in a private message",
    "help": "what the bot does",
    "privacy": "what is stored and who sees it, in a private message",
    "forget": "erase your transcripts and settings (asked in private)",
}
START_FOR_BALANCE = "balance"
START_FOR_MINUTES = "buy"


@attrs.frozen
class _Request:
    """Audio in a group and who wants it transcribed: ``trigger`` is the message to answer
    in words (the ``/transcribe`` itself, or the note in ``auto``), ``audio`` the message
    whose audio it is (``None``: no reply, or a reply to no audio)."""

    trigger: Message
    audio: Message | None
    source: AudioSource | None
    requested: bool


class GroupHandlers:
    def __init__(
        self, app: UseCases, rate_limit: RateLimit, clock_now: Callable[[], float]
    ) -> None:
        self._app = app
        self._rate_limit = rate_limit
        self._now = clock_now
        self._windows: dict[int, Window] = {}

    def register(self, ptb: PtbApplication) -> None:  # type: ignore[type-arg]
        """Before the private chat's handlers: in groups these win (first match)."""
        commands: dict[str, Handler] = {
            "transcribe": self.on_transcribe,
            "balance": self.on_balance,
            "buy_minutes": self.on_buy_minutes,
        }
        for name, handler in commands.items():
            ptb.add_handler(CommandHandler(name, handler, filters=IN_GROUPS))
        ptb.add_handler(MessageHandler(MEDIA & IN_GROUPS, self.on_media))

    async def on_media(self, update: Update, context: Context) -> None:
        """Audio sent to the group: transcribed only in ``auto``; anything else, silence."""
        message = update.effective_message
        if message is None:
            return
        source = audio_source(message)
        if source is None:
            return  # a PDF, a GIF, a sticker as a file: not a word in a group
        source = attrs.evolve(source, forwarded_from=forwarded_from(message))
        await self._handle(_Request(message, message, source, requested=False), context)

    async def on_transcribe(self, update: Update, context: Context) -> None:
        """``/transcribe`` (or ``/transcribe@bot``) replying to audio."""
        message = update.effective_message
        if message is None:
            return
        audio = message.reply_to_message
        source = audio_source(audio) if audio is not None else None
        if audio is not None and source is not None:
            source = attrs.evolve(source, forwarded_from=forwarded_from(audio))
        await self._handle(_Request(message, audio, source, requested=True), context)

    async def on_balance(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        report = await self._app.reports.balance(user.id)
        lang = user.language_code
        lines = [text("balance_report", lang, balance=report.balance, used=report.used_this_month)]
        lines += [balance_line(job, lang) for job in report.recent_jobs]
        await self._in_private(message, user, context, "\n".join(lines), START_FOR_BALANCE)

    async def on_buy_minutes(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        lang = user.language_code
        keyboard = packages_keyboard(self._app.billing.packages, lang)
        await self._in_private(
            message,
            user,
            context,
            text("choose_package", lang),
            START_FOR_MINUTES,
            keyboard=keyboard,
        )

    async def _in_private(
        self,
        message: Message,
        user: User,
        context: Context,
        words: str,
        start_parameter: str,
        *,
        keyboard: InlineKeyboardMarkup | None = None,
    ) -> None:
        await answer_privately(message, user, context, words, start_parameter, keyboard=keyboard)

    async def _handle(self, request: _Request, context: Context) -> None:
        trigger = request.trigger
        user = trigger.from_user
        if user is None:
            return
        lang = user.language_code
        chat_id = trigger.chat.id
        source = request.source
        audio_id = request.audio.message_id if request.audio is not None else trigger.message_id
        key = request_key(chat_id, audio_id)
        incoming = Incoming(
            chat_type=ChatType(trigger.chat.type),
            sender=_sender(trigger),
            media=source.kind if source is not None else None,
            requested=request.requested,
        )
        duration = source.duration_seconds if source is not None else None
        charged = await self._app.chats.decide(chat_id, incoming, key, duration)
        if charged.sponsor_to_tell is not None:
            await self._tell_sponsor(context, charged.sponsor_to_tell, trigger)
        decision = charged.decision
        if decision.action is Action.IGNORE:
            return
        if decision.action is Action.EXPLAIN or source is None or decision.payer_id is None:
            if request.requested:
                await trigger.reply_text(_explanation(decision.reason, lang, context))
            return
        allowed, wait, window = self._windows.get(user.id, Window()).defer(
            self._now(), self._rate_limit
        )
        self._windows[user.id] = window
        if not allowed:
            if request.requested:
                await trigger.reply_text(text("rate_limited", lang, seconds=max(1, round(wait))))
            return
        style = attrs.evolve(await self._app.preferences.of(user.id), ui_language=lang)
        status = None
        if decision.show_status:
            status = await _status_reply(context, chat_id, audio_id, lang)
        outcome = await self._app.bus.handle(
            AcceptVoiceNote(
                request_id=key,
                user_id=decision.payer_id,
                chat_id=chat_id,
                source=attrs.evolve(source, asked_for=request.requested),
                style=style,
                reply_to_message_id=audio_id,
                status_message_id=status.message_id if status is not None else None,
                defer_seconds=wait,
            )
        )
        await self._present(request, decision, outcome, status, context)

    async def _present(
        self,
        request: _Request,
        decision: Decision,
        outcome: AcceptOutcome,
        status: Message | None,
        context: Context,
    ) -> None:
        """What the accept means in the group: a refusal only to whoever asked (and never
        with minutes in it), a second request answered with the stored text."""
        trigger = request.trigger
        user = trigger.from_user
        lang = user.language_code if user is not None else None
        if outcome.acceptance is Acceptance.REJECTED:
            if status is not None:
                await _delete(status)
            notice = outcome.notice
            short = notice is not None and notice.reason is NoticeReason.INSUFFICIENT_MINUTES
            payer = decision.payer_id
            if short and payer is not None and user is not None and payer != user.id:
                await self._fall_back(context, payer, trigger)
            if request.requested and notice is not None:
                words = (
                    _explanation(Reason.NO_MINUTES, lang, context)
                    if short
                    else describe(notice, lang)
                )
                await trigger.reply_text(words)
        elif outcome.acceptance is Acceptance.QUEUED and status is not None:
            queued = Progress(Stage.QUEUED, queue_position=outcome.queue_position)
            await _edit(status, progress_text(queued, lang))
        elif outcome.acceptance is Acceptance.DUPLICATE:
            if status is not None:
                await _delete(status)
            if request.requested and outcome.job_id is not None:
                audio_id = request.audio.message_id if request.audio is not None else None
                await self._app.chats.send_again(outcome.job_id, audio_id)

    async def _fall_back(self, context: Context, sponsor_id: int, trigger: Message) -> None:
        """The sponsor's minutes were spent meanwhile (after ``decide`` saw enough): the
        chat falls back, and the sponsor is told if this was the moment it did."""
        if await self._app.chats.sponsor_ran_out(trigger.chat.id, sponsor_id):
            await self._tell_sponsor(context, sponsor_id, trigger)

    async def _tell_sponsor(self, context: Context, sponsor_id: int, trigger: Message) -> None:
        """Privately, once (the domain records it once): best effort, the group goes on."""
        title = trigger.chat.title or ""
        try:
            await context.bot.send_message(
                sponsor_id, text("group.sponsor_ran_out", None, title=title)
            )
        except TelegramError as error:
            log.info("sponsor %s not told their minutes ran out: %s", sponsor_id, error)


async def answer_privately(
    message: Message,
    user: User,
    context: Context,
    words: str,
    start_parameter: str,
    *,
    keyboard: InlineKeyboardMarkup | None = None,
) -> None:
    """``words`` to the user alone; when Telegram forbids it (the user never started the
    bot, or blocked it), one line in the group with a link to the private chat."""
    try:
        await context.bot.send_message(user.id, words, reply_markup=keyboard)
    except Forbidden:
        link = _start_link(context, start_parameter)
        await message.reply_text(text("group.start_me_first", user.language_code, link=link))


def _sender(message: Message) -> Sender:
    user_id = message.from_user.id if message.from_user is not None else 0
    sender_chat = message.sender_chat.id if message.sender_chat is not None else None
    return Sender(user_id, sender_chat)


def _explanation(reason: Reason | None, lang: str | None, context: Context) -> str:
    if reason is Reason.NO_MINUTES:
        return text("group.no_minutes", lang, link=_start_link(context, START_FOR_MINUTES))
    if reason is Reason.NO_PAYER:
        return text("group.no_payer", lang)
    return text("group.no_audio", lang)


def _start_link(context: Context, parameter: str) -> str:
    return f"https://t.me/{context.bot.username}?start={parameter}"


async def _status_reply(
    context: Context, chat_id: int, reply_to: int, lang: str | None
) -> Message | None:
    """The status, as a reply to the audio; ``None`` when Telegram would not take it (the
    job goes on and its answer comes as a new message)."""
    try:
        return await context.bot.send_message(
            chat_id,
            progress_text(Progress(Stage.RECEIVED), lang),
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True),
        )
    except TelegramError as error:
        log.warning("no status message for audio %s in chat %s: %s", reply_to, chat_id, error)
        return None


async def _edit(message: Message, words: str) -> None:
    try:
        await message.edit_text(words)
    except TelegramError as error:
        log.info("status message not edited: %s", error)


async def _delete(message: Message) -> None:
    try:
        await message.delete()
    except TelegramError as error:
        log.info("status message not deleted: %s", error)
