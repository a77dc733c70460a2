"""Downloading the user's audio from Telegram (getFile, then the file URL).

The public Bot API serves files up to 20 MB; a local Bot API server (``TELEGRAM_API_BASE_URL``)
lifts that to 2 GB, which the operator is told about when a user hits the limit.
"""

from __future__ import annotations

import logging

from telegram import Bot

from application.errors import FileTooLarge, FileUnavailable
from domain.jobs import AudioSource
from infrastructure.telegram.errors import call_telegram

log = logging.getLogger(__name__)

PUBLIC_API_LIMIT = 20 * 1024 * 1024
LOCAL_API_LIMIT = 2000 * 1024 * 1024


class TelegramFileSource:
    def __init__(self, bot: Bot, max_bytes: int = PUBLIC_API_LIMIT) -> None:
        self._bot = bot
        self._max_bytes = max_bytes

    async def fetch(self, source: AudioSource) -> bytes:
        if source.file_size is not None and source.file_size > self._max_bytes:
            raise self._too_large(source.file_size)
        try:
            file = await call_telegram(
                lambda: self._bot.get_file(source.file_id), FileUnavailable, "getFile"
            )
        except FileUnavailable as error:
            if "too big" in str(error).lower():
                raise self._too_large(source.file_size) from error
            raise
        data = await call_telegram(
            file.download_as_bytearray, FileUnavailable, "file download", timeout_seconds=300
        )
        return bytes(data)

    def _too_large(self, size: int | None) -> FileTooLarge:
        if self._max_bytes <= PUBLIC_API_LIMIT:
            log.warning(
                "a %s-byte file is over the Bot API's 20 MB download limit; run a local Bot "
                "API server and point TELEGRAM_API_BASE_URL at it to accept files up to 2 GB",
                size if size is not None else "large",
            )
        return FileTooLarge(f"file of {size} bytes", limit_bytes=self._max_bytes)
