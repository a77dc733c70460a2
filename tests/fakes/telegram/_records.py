"""What the Telegram fake records: calls, messages, edits, uploads, payments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fakes.telegram._html import HtmlError, parse_html


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Call:
    """One Bot API request with a valid token. ``method`` is spelled as in the URL.

    ``time`` and ``finished`` are ``time.monotonic()`` values; ``error_code`` is ``None``
    for a successful call, and both stay ``None`` until the answer is sent.
    """

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    time: float
    finished: float | None = None
    error_code: int | None = None
    description: str | None = None
    result: Any = None

    @property
    def ok(self) -> bool:
        return self.finished is not None and self.error_code is None


@dataclass
class SentMessage:
    """A text message the bot sent; ``text`` is the current text (after edits)."""

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    reply_to_message_id: int | None
    date: int
    time: float
    history: list[str] = field(default_factory=list)
    deleted: bool = False

    @property
    def plain_text(self) -> str:
        """The text as the user sees it (tags removed, entities decoded for HTML)."""
        return rendered_text(self.text, self.parse_mode)

    @property
    def edited(self) -> bool:
        return len(self.history) > 1


@dataclass(frozen=True)
class Edit:
    """One successful ``editMessageText``."""

    chat_id: int | None
    message_id: int | None
    inline_message_id: str | None
    text: str
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    time: float


@dataclass(frozen=True)
class SentDocument:
    """One successful ``sendDocument``; ``data`` is ``None`` when a file_id/URL was resent."""

    chat_id: int
    message_id: int
    filename: str | None
    mime_type: str | None
    data: bytes | None
    caption: str | None
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    reply_to_message_id: int | None
    file_id: str
    time: float


@dataclass(frozen=True)
class ChatAction:
    chat_id: int
    action: str
    time: float


@dataclass(frozen=True)
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    time: float


@dataclass(frozen=True)
class Invoice:
    """One successful ``sendInvoice``; ``prices`` as sent: ``[{"label", "amount"}]``."""

    chat_id: int
    message_id: int
    title: str
    description: str
    payload: str
    currency: str
    prices: list[dict[str, Any]]
    provider_token: str | None
    params: dict[str, Any]
    time: float

    @property
    def total_amount(self) -> int:
        return sum(int(price["amount"]) for price in self.prices)


@dataclass(frozen=True)
class PreCheckoutAnswer:
    pre_checkout_query_id: str
    ok: bool
    error_message: str | None
    time: float


@dataclass(frozen=True)
class Refund:
    user_id: int
    telegram_payment_charge_id: str
    time: float


@dataclass(frozen=True)
class WebhookConfig:
    """What ``setWebhook`` was given."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int
    drop_pending_updates: bool


@dataclass(frozen=True)
class RegisteredFile:
    """A file the fake can serve: ``size`` is what getFile reports (may exceed ``data``)."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    size: int


def rendered_text(text: str, parse_mode: str | None) -> str:
    if (parse_mode or "").upper() != "HTML":
        return text
    try:
        return parse_html(text)[0]
    except HtmlError:
        return text
