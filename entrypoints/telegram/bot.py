"""``build_bot``: the one place a PTB Application is built, with our handlers.

Polling (``serve``), the webhook (``entrypoints.http``) and Function Compute all take
their bot from here, so a handler registered once answers in every way of running.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from telegram import BotCommand, BotCommandScopeAllGroupChats
from telegram.error import TelegramError
from telegram.ext import Application as PtbApplication
from telegram.ext import ApplicationBuilder

from domain.rate_limit import RateLimit
from entrypoints.composition.container import Channel, Container
from entrypoints.composition.privacy_facts import privacy_facts
from entrypoints.telegram.admin import AdminHandlers
from entrypoints.telegram.group_settings import GroupSettingsHandlers
from entrypoints.telegram.groups import GROUP_COMMAND_MENU, GroupHandlers
from entrypoints.telegram.handlers import COMMAND_MENU, BotHandlers
from entrypoints.telegram.member_status import MemberStatuses
from entrypoints.telegram.payments import PaymentHandlers
from entrypoints.telegram.privacy import PrivacyHandlers
from entrypoints.telegram.stop_taps import StopTaps
from entrypoints.telegram.transcript_actions import TranscriptActionHandlers
from entrypoints.telegram.update_bridge import record_handler_error
from entrypoints.telegram.upload_page import UploadPageHandlers

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 64
RATE_WINDOW_SECONDS = 60.0

Bot = PtbApplication[Any, Any, Any, Any, Any, Any]


def build_bot(container: Container, *, polling: bool) -> Bot:
    """The PTB application with our handlers, sharing the container's Bot and use cases."""
    if container.config.channel() != Channel.TELEGRAM:
        raise ValueError("the bot needs a container built for the Telegram channel")
    builder = ApplicationBuilder().bot(container.telegram_bot())
    builder = builder.concurrent_updates(CONCURRENT_UPDATES)
    if not polling:
        builder = builder.updater(None)
    ptb = builder.build()
    use_cases = container.use_cases()
    settings = container.settings()
    # Order matters: in one handler group the first match wins. Groups' own handlers come
    # first (their filters take audio and a member's commands in groups only, never a
    # payment), then payments (a generic handler must never swallow successful_payment).
    rate_limit = RateLimit(settings.rate_limit_per_minute, RATE_WINDOW_SECONDS)
    GroupHandlers(use_cases, rate_limit, time.time).register(ptb)
    GroupSettingsHandlers(use_cases, MemberStatuses()).register(ptb)
    PaymentHandlers(use_cases).register(ptb)
    AdminHandlers(use_cases, settings.owner_id).register(ptb)
    PrivacyHandlers(use_cases, privacy_facts(settings)).register(ptb)
    # The buttons under results (``act:`` data), in private chats and groups alike; after
    # the group settings, which answer a query without data (PTB lets every patterned
    # handler match one), and before the generic callback handler.
    TranscriptActionHandlers(use_cases).register(ptb)
    StopTaps(use_cases).register(ptb)  # before the generic callback handler
    UploadPageHandlers(
        settings.webapp_url, settings.download_limit_bytes, settings.max_upload_bytes
    ).register(ptb)  # before the media handler: a too-large file gets the upload page
    BotHandlers(use_cases, rate_limit, time.time, container.delayed_status()).register(ptb)
    # Inline (block=True), in the task that processes the update: the bridge that called
    # process_update learns that a handler failed, so the inbox retries the update.
    ptb.add_error_handler(record_handler_error, block=True)
    return ptb


async def publish_commands(ptb: Bot) -> None:
    """The menus of commands Telegram shows, in private chats and in groups (best effort:
    the bot works without them)."""
    commands = [BotCommand(name, description) for name, description in COMMAND_MENU.items()]
    in_groups = [BotCommand(name, about) for name, about in GROUP_COMMAND_MENU.items()]
    try:
        await ptb.bot.set_my_commands(commands)
        await ptb.bot.set_my_commands(in_groups, scope=BotCommandScopeAllGroupChats())
    except TelegramError as error:
        log.warning("could not register the command menu: %s", error)
