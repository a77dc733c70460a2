"""PTB handlers for a group's own settings, the bot joining a group, and a group's move
to a supergroup.

Why a module of its own: these are about the chat, not about anybody's audio. ``/chatsettings``
(and ``/settings`` sent in a group) shows the chat's settings as buttons; anybody may see
them, only administrators change them. Each press looks up the presser's standing with
``getChatMember`` (remembered for a minute: ``member_status.py``) and the use case decides
(``domain.chats.may_change_settings``); a refused press gets a short popup, never a message
in the group. An anonymous admin (a message on behalf of the group itself) cannot press
buttons as the group, so ``/chatsettings <setting> on|off`` lets them act as the chat. When
the bot is added to a group it says once what it does, the chat's mode and how to change
it, and, when Telegram's privacy mode hides ordinary messages from it, what ``auto`` needs.

A button carries the value it sets (``keyboards.py``): a retried update lands once. As
everywhere in the bot, a handler raises exactly when its effect is incomplete (a reply or
a redraw that did not go out), and the inbox retries the update.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Chat as TelegramChat
from telegram import Message, Update
from telegram.constants import ChatMemberStatus
from telegram.ext import Application as PtbApplication
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from application.bootstrap import UseCases
from application.commands import ChangeChatSettings, ChatSetting, MigrateChat
from application.handlers.chat_settings import ChatSettingsOutcome, Refusal
from domain.chats import ChatType, Sender
from entrypoints.telegram.callback_answers import answer_query, redraw_keyboard
from entrypoints.telegram.keyboards import (
    CHAT_PREFIX,
    CHAT_VALUE_WORDS,
    ChatSettingTap,
    chat_settings_keyboard,
    parse_chat_setting,
)
from entrypoints.telegram.member_status import MemberStatuses
from entrypoints.telegram.texts import text

Context = ContextTypes.DEFAULT_TYPE

NEW_MESSAGES = filters.UpdateType.MESSAGE  # an edited command does not run again
# The bot was not in the chat before this change (added, or added back).
OUTSIDE = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.BANNED})
INSIDE = frozenset({ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR})
REFUSALS = {Refusal.NOT_ADMIN: "chat.not_admin", Refusal.CANNOT_PAY: "chat.cannot_pay"}


class GroupSettingsHandlers:
    def __init__(self, app: UseCases, members: MemberStatuses) -> None:
        self._app = app
        self._members = members

    def register(self, ptb: PtbApplication) -> None:  # type: ignore[type-arg]
        """Before the private chat's handlers: ``/settings`` in a group and the chat's
        buttons are these (first match wins)."""
        ptb.add_handler(CommandHandler("chatsettings", self.on_chat_settings, NEW_MESSAGES))
        in_groups = NEW_MESSAGES & filters.ChatType.GROUPS
        ptb.add_handler(CommandHandler("settings", self.on_chat_settings, in_groups))
        ptb.add_handler(CallbackQueryHandler(self.on_tap, pattern=f"^{CHAT_PREFIX}"))
        ptb.add_handler(ChatMemberHandler(self.on_my_membership, ChatMemberHandler.MY_CHAT_MEMBER))
        ptb.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.on_migrate))

    async def on_chat_settings(self, update: Update, context: Context) -> None:
        """The chat's settings as buttons; with ``<setting> on|off``, a change first."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        lang = _language(message)
        chat_type = _chat_type(chat)
        if chat_type is None or not chat_type.is_group:
            await message.reply_text(text("chat.groups_only", lang))
            return
        if context.args:
            tap = _parse_arguments(context.args)
            if tap is None:
                await message.reply_text(text("chat.usage", lang))
                return
            sender = _sender(message)
            outcome = await self._change(context, chat, chat_type, sender, tap)
            if outcome.refusal is not None:
                await message.reply_text(text(REFUSALS[outcome.refusal], lang))
                return
            current = outcome.chat
        else:
            current = await self._app.chat_settings.of(chat.id)
        keyboard = chat_settings_keyboard(current, lang)
        await message.reply_text(text("chat.settings", lang), reply_markup=keyboard)

    async def on_tap(self, update: Update, context: Context) -> None:
        """A settings button: changed when the presser may, else a popup to them alone."""
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        lang = user.language_code
        tap = parse_chat_setting(query.data)
        chat = query.message.chat if query.message is not None else None
        chat_type = _chat_type(chat) if chat is not None else None
        if tap is None or chat is None or chat_type is None:
            await answer_query(query.answer())
            return
        outcome = await self._change(context, chat, chat_type, Sender(user.id), tap)
        if outcome.refusal is not None:
            await answer_query(query.answer(text(REFUSALS[outcome.refusal], lang), show_alert=True))
            return
        await answer_query(query.answer(text("saved", lang)))
        keyboard = chat_settings_keyboard(outcome.chat, lang)
        await redraw_keyboard(
            query.edit_message_text(text("chat.settings", lang), reply_markup=keyboard)
        )

    async def on_my_membership(self, update: Update, context: Context) -> None:
        """Added to a group: one short message. Promoted, demoted or removed: nothing."""
        change = update.my_chat_member
        if change is None:
            return
        chat_type = _chat_type(change.chat)
        status_before, status_now = change.old_chat_member.status, change.new_chat_member.status
        if chat_type is None or not chat_type.is_group:
            return
        if status_before not in OUTSIDE or status_now not in INSIDE:
            return
        lang = change.from_user.language_code
        current = await self._app.chat_settings.of(change.chat.id)
        how = text(f"chat.how.{current.mode.value}", lang)
        lines = [text("chat.joined", lang, how=how)]
        # An admin sees every message; a member under privacy mode only commands and
        # replies to the bot, so ``auto`` would hear nothing.
        if status_now != ChatMemberStatus.ADMINISTRATOR:
            me = await context.bot.get_me()
            if not me.can_read_all_group_messages:
                lines.append(text("chat.privacy", lang))
        await context.bot.send_message(change.chat.id, "\n".join(lines))

    async def on_migrate(self, update: Update, context: Context) -> None:
        """A group became a supergroup: its settings go with it (either announcement)."""
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id is not None:
            moving = MigrateChat(message.chat.id, message.migrate_to_chat_id)
        elif message.migrate_from_chat_id is not None:
            moving = MigrateChat(message.migrate_from_chat_id, message.chat.id)
        else:
            return
        await self._app.bus.handle(moving)

    async def _change(
        self,
        context: Context,
        chat: TelegramChat,
        chat_type: ChatType,
        sender: Sender,
        tap: ChatSettingTap,
    ) -> ChatSettingsOutcome:
        # Someone acting as a chat (an anonymous admin, a channel) has no standing to look
        # up: the domain decides from the sender alone.
        status = None
        if chat_type.is_group and sender.sender_chat_id is None:
            status = await self._members.of(context.bot, chat.id, sender.user_id)
        outcome: ChatSettingsOutcome = await self._app.bus.handle(
            ChangeChatSettings(chat.id, chat_type, sender, status, tap.setting, tap.enabled)
        )
        return outcome


def _chat_type(chat: TelegramChat) -> ChatType | None:
    try:
        return ChatType(chat.type)
    except ValueError:
        return None


def _sender(message: Message) -> Sender:
    user_id = message.from_user.id if message.from_user is not None else 0
    sender_chat = message.sender_chat.id if message.sender_chat is not None else None
    return Sender(user_id, sender_chat)


def _language(message: Message) -> str | None:
    return message.from_user.language_code if message.from_user is not None else None


def _parse_arguments(arguments: Sequence[str]) -> ChatSettingTap | None:
    """``<auto|silent|files|sponsor> <on|off>``, else ``None``."""
    if len(arguments) != 2:
        return None
    name, word = (argument.lower() for argument in arguments)
    try:
        setting = ChatSetting(name)
    except ValueError:
        return None
    return ChatSettingTap(setting, word == "on") if word in CHAT_VALUE_WORDS else None
