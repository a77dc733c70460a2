"""The Mini App's doors in the chat: a file too large for the Bot API, ``/upload``, the menu.

Telegram lets a bot download files only up to its limit (``TELEGRAM_DOWNLOAD_LIMIT_MB``);
a larger recording sent in a private chat is answered, instead of an error, with one
message and a ``web_app`` button opening the upload page (``WEBAPP_URL``), and so is
``/upload``. Registered before the generic media handler, so such a file is never
accepted as a job that could only fail. With no ``WEBAPP_URL`` nothing here is
registered and the file is refused as before. Telegram offers ``web_app`` inline buttons
in private chats only, so groups keep the plain refusal.
"""

from __future__ import annotations

from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    WebAppInfo,
)
from telegram.ext import Application as PtbApplication
from telegram.ext import CommandHandler, ContextTypes, MessageHandler, filters

from entrypoints.telegram.media import audio_source
from entrypoints.telegram.texts import text

MEGABYTE = 1024 * 1024


class _OverDownloadLimit(filters.MessageFilter):
    """Audio the bot accepts whose declared size is over what the Bot API serves."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(name="OverDownloadLimit")
        self._limit_bytes = limit_bytes

    def filter(self, message: Message) -> bool:
        source = audio_source(message)
        size = source.file_size if source is not None else None
        return isinstance(size, int) and size > self._limit_bytes


class UploadPageHandlers:
    def __init__(self, webapp_url: str, download_limit_bytes: int, max_upload_bytes: int) -> None:
        self._url = webapp_url
        self._limit_bytes = download_limit_bytes
        self._max_upload_bytes = max_upload_bytes

    def register(self, ptb: PtbApplication[Any, Any, Any, Any, Any, Any]) -> None:
        if not self._url:
            return
        private_new = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
        ptb.add_handler(CommandHandler("upload", self.on_upload, filters=private_new))
        too_large = private_new & _OverDownloadLimit(self._limit_bytes)
        ptb.add_handler(MessageHandler(too_large, self.on_too_large))

    def button(self, language: str | None) -> InlineKeyboardMarkup:
        label = text("upload.button", language)
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, web_app=WebAppInfo(url=self._url))]]
        )

    async def on_too_large(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None:
            return
        language = user.language_code if user is not None else None
        limit_mb = self._limit_bytes // MEGABYTE
        await message.reply_text(  # raises when it fails: the update is retried
            text("upload.too_large", language, limit_mb=limit_mb),
            reply_markup=self.button(language),
        )

    async def on_upload(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None:
            return
        language = user.language_code if user is not None else None
        await message.reply_text(
            text("upload.prompt", language, max_mb=self._max_upload_bytes // MEGABYTE),
            reply_markup=self.button(language),
        )
