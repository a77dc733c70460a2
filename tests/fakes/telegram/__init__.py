"""A protocol fake of the Telegram Bot API, for end-to-end tests with the real PTB client.

What it fakes: an HTTP server on 127.0.0.1 (random port) that speaks the Bot API wire
protocol as python-telegram-bot 22 uses it: ``POST /bot<token>/<method>`` with
form-urlencoded, multipart or JSON bodies (PTB JSON-encodes non-string values), the
``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code", "description",
"parameters": {"retry_after"}}`` envelopes with Telegram's HTTP statuses, and file
downloads at ``GET /file/bot<token>/<file_path>``. Methods: getMe, getUpdates (long poll
with ``timeout``, ``offset`` acknowledgement, negative offsets, ``limit``,
``allowed_updates``; 409 while a webhook is set or when a newer poll takes over),
setWebhook, deleteWebhook, getWebhookInfo, getFile (20 MB limit: "file is too big"),
sendMessage, editMessageText, editMessageReplyMarkup, deleteMessage, sendChatAction, sendDocument,
set/get/deleteMyCommands, getChatMember (standing set in ``chat_members``, a plain
member otherwise), answerCallbackQuery, sendInvoice (Stars: XTR, no provider
token), answerPreCheckoutQuery (10 s deadline), refundStarPayment. It checks what makes
real calls fail: the token (401/404), text over 4096 UTF-16 units after entity parsing,
captions over 1024, HTML that Telegram cannot parse (unknown or unbalanced tags, a raw
``<`` or ``&``), "message is not modified", replies to unknown messages, callback data
over 64 bytes, unknown or already answered queries, refunds of unknown or refunded charges.
Method names are case-insensitive, as in the real API; any other method is 404.
Group life: ``push_my_chat_member`` (the bot added, promoted, removed),
``push_anonymous_admin_text`` (GroupAnonymousBot posting as the group), ``push_migration``
(a group upgraded to a supergroup: both service messages), ``can_read_all_group_messages``
(getMe's privacy mode flag).

What it does not fake: other methods (sendVoice, sendPhoto, media groups, inline mode,
chat administration), MarkdownV2 validation, message entities in replies (the rendered
text only), flood limits (script them with ``fail_next``), chats that never talked to the
bot, real payment flows (push the updates), and automatic webhook delivery (call
``deliver_webhook``). Error descriptions for payments are close to Telegram's, not exact.

Usage::

    with TelegramFake() as fake:
        file_id = fake.register_file(ogg_bytes)
        fake.push_voice(user_id=42, chat_id=42, file_id=file_id, duration=7)
        app = (ApplicationBuilder().token(fake.token).base_url(fake.base_url)
               .base_file_url(fake.base_file_url).build())
        ...
        [reply] = await fake.wait_for_async(lambda: fake.sent_messages(42))

or the ``telegram_fake`` fixture (import it into a conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.telegram._html import HtmlError, parse_html, utf16_length
from tests.fakes.telegram._records import (
    Call,
    CallbackAnswer,
    ChatAction,
    Edit,
    Invoice,
    PreCheckoutAnswer,
    Refund,
    RegisteredFile,
    SentDocument,
    SentMessage,
    UploadedFile,
    WebhookConfig,
)
from tests.fakes.telegram.fake import DEFAULT_TOKEN, TelegramFake

__all__ = [
    "DEFAULT_TOKEN",
    "Call",
    "CallbackAnswer",
    "ChatAction",
    "Edit",
    "HtmlError",
    "Invoice",
    "PreCheckoutAnswer",
    "Refund",
    "RegisteredFile",
    "SentDocument",
    "SentMessage",
    "TelegramFake",
    "UploadedFile",
    "WebhookConfig",
    "parse_html",
    "telegram_fake",
    "utf16_length",
]


@pytest.fixture
def telegram_fake() -> Iterator[TelegramFake]:
    """A running ``TelegramFake``, stopped after the test."""
    with TelegramFake() as fake:
        yield fake
