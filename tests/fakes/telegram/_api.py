"""The Bot API methods of the Telegram fake and the state they work on.

Every method runs on a server thread; all state is guarded by one condition variable
(``_cond``), which is notified on every change so that long polls and ``wait_for`` wake.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fakes.telegram._html import HtmlError, parse_html, utf16_length
from tests.fakes.telegram._records import (
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
from tests.fakes.telegram._updates import chat_json, chat_member_json, is_allowed, user_json
from tests.fakes.telegram._wire import ApiError, ClientGone, bad_request

MB = 1024 * 1024
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)
DROP = object()  # a handler's result meaning "close the connection without an answer"


@dataclass(frozen=True)
class Request:
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    client_gone: ClientGone


class BotApi:
    """State of one fake bot account and the Bot API methods that act on it."""

    def __init__(self, token: str, bot_username: str, bot_first_name: str) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.download_limit_bytes: int | None = 20 * MB
        self.upload_limit_bytes = 50 * MB
        self.pre_checkout_timeout_seconds = 10.0
        self.strict_replies = True
        self.blocked_chats: set[int] = set()
        # getMe's can_read_all_group_messages: False while privacy mode is on (the default).
        self.can_read_all_group_messages = False
        self.chat_members: dict[tuple[int, int], str] = {}  # (chat, user) -> status
        self.webhook: WebhookConfig | None = None
        self.webhook_last_error: tuple[int, str] | None = None
        self.confirmed_offset = 0
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._pending: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._files: dict[str, RegisteredFile] = {}
        self._files_by_path: dict[str, RegisteredFile] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._last_message_id: dict[int, int] = {}
        self._sent: dict[tuple[int, int], SentMessage] = {}
        self._edits: list[Edit] = []
        self._documents: list[SentDocument] = []
        self._actions: list[ChatAction] = []
        self._callback_queries: dict[str, bool] = {}  # id -> answered
        self._callback_answers: list[CallbackAnswer] = []
        self._pre_checkout_queries: dict[str, float | None] = {}  # id -> pushed at; None: answered
        self._pre_checkout_answers: list[PreCheckoutAnswer] = []
        self._invoices: list[Invoice] = []
        self._charges: dict[str, int] = {}  # telegram_payment_charge_id -> user id
        self._refunds: list[Refund] = []
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def methods(self) -> dict[str, Callable[[Request], Any]]:
        """Handlers by lower-case method name (the Bot API ignores the case of methods)."""
        handlers = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getFile": self._get_file,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "sendChatAction": self._send_chat_action,
            "getChatMember": self._get_chat_member,
            "sendDocument": self._send_document,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "answerCallbackQuery": self._answer_callback_query,
            "sendInvoice": self._send_invoice,
            "answerPreCheckoutQuery": self._answer_pre_checkout_query,
            "refundStarPayment": self._refund_star_payment,
        }
        return {name.lower(): handler for name, handler in handlers.items()}

    # -- identity, updates, webhook -------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _get_me(self, request: Request) -> Any:
        return self.bot_user() | {
            "can_join_groups": True,
            "can_read_all_group_messages": self.can_read_all_group_messages,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_updates(self, request: Request) -> Any:
        params = request.params
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + max(float(params.get("timeout") or 0), 0.0)
        with self._cond:
            if self.webhook is not None:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is "
                    "active; use deleteWebhook to delete the webhook first",
                )
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            if params.get("allowed_updates") is not None:
                self._allowed_updates = list(params["allowed_updates"])
            self._acknowledge(offset)
            while True:
                if request.client_gone():
                    return DROP
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                batch = self._deliverable(limit)
                remaining = deadline - time.monotonic()
                if batch or remaining <= 0 or self._stopping.is_set():
                    return batch
                self._cond.wait(min(remaining, 0.05))

    def _acknowledge(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
            self.confirmed_offset = max(self.confirmed_offset, offset)
        elif offset < 0:
            self._pending = self._pending[offset:]

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        """The first ``limit`` pending updates; kinds not allowed are dropped for good."""
        self._pending = [u for u in self._pending if is_allowed(u, self._allowed_updates)]
        return [json.loads(json.dumps(update)) for update in self._pending[:limit]]

    def _set_webhook(self, request: Request) -> Any:
        params = request.params
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if url and not url.startswith(("https://", "http://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        with self._cond:
            if params.get("drop_pending_updates"):
                self._pending.clear()
            if params.get("allowed_updates") is not None:
                self._allowed_updates = list(params["allowed_updates"])
            self.webhook = None
            if url:
                self.webhook = WebhookConfig(
                    url=url,
                    secret_token=secret,
                    allowed_updates=params.get("allowed_updates"),
                    max_connections=int(params.get("max_connections") or 40),
                    drop_pending_updates=bool(params.get("drop_pending_updates")),
                )
        return True

    def _delete_webhook(self, request: Request) -> Any:
        with self._cond:
            self.webhook = None
            if request.params.get("drop_pending_updates"):
                self._pending.clear()
        return True

    def _get_webhook_info(self, request: Request) -> Any:
        with self._cond:
            info: dict[str, Any] = {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._pending),
            }
            if self.webhook is not None:
                info["url"] = self.webhook.url
                info["max_connections"] = self.webhook.max_connections
                if self._allowed_updates is not None:
                    info["allowed_updates"] = list(self._allowed_updates)
            if self.webhook_last_error is not None:
                info["last_error_date"], info["last_error_message"] = self.webhook_last_error
            return info

    # -- files ----------------------------------------------------------------------------

    def register(
        self,
        data: bytes,
        file_unique_id: str | None = None,
        *,
        file_path: str | None = None,
        file_size: int | None = None,
        file_id: str | None = None,
    ) -> RegisteredFile:
        with self._cond:
            number = len(self._files) + 1
            file_id = file_id or f"BQACAgIAAxkBAAI{number:05d}{secrets.token_hex(10)}"
            registered = RegisteredFile(
                file_id=file_id,
                file_unique_id=file_unique_id or f"AgAD{number:05d}{secrets.token_hex(4)}",
                file_path=file_path or f"documents/file_{number}",
                data=data,
                size=len(data) if file_size is None else file_size,
            )
            self._files[file_id] = registered
            self._files_by_path[registered.file_path] = registered
            self._cond.notify_all()
            return registered

    def media_json(self, file_id: str) -> dict[str, Any]:
        """``file_id``, ``file_unique_id`` and (for a registered file) ``file_size``."""
        with self._cond:
            registered = self._files.get(file_id)
        if registered is None:
            unique = hashlib.sha1(file_id.encode()).hexdigest()[:16]
            return {"file_id": file_id, "file_unique_id": f"AgAD{unique}"}
        return {
            "file_id": file_id,
            "file_unique_id": registered.file_unique_id,
            "file_size": registered.size,
        }

    def _get_file(self, request: Request) -> Any:
        with self._cond:
            registered = self._files.get(str(request.params.get("file_id") or ""))
        if registered is None:
            raise bad_request("invalid file_id")
        if self.download_limit_bytes is not None and registered.size > self.download_limit_bytes:
            raise bad_request("file is too big")
        return {
            "file_id": registered.file_id,
            "file_unique_id": registered.file_unique_id,
            "file_size": registered.size,
            "file_path": registered.file_path,
        }

    def file_by_id(self, file_id: str) -> RegisteredFile | None:
        with self._cond:
            return self._files.get(file_id)

    def file_at(self, file_path: str) -> RegisteredFile | None:
        with self._cond:
            return self._files_by_path.get(file_path)

    # -- messages -------------------------------------------------------------------------

    def chat(self, chat_id: int) -> dict[str, Any]:
        known = self._chats.get(chat_id)
        if known is not None:
            return known
        return chat_json(chat_id, user_json(chat_id, "Test User", None))

    def next_message_id(self, chat_id: int, wanted: int | None = None) -> int:
        """Message ids are sequential per chat, shared by the user and the bot."""
        with self._cond:
            message_id = wanted or self._last_message_id.get(chat_id, 0) + 1
            self._last_message_id[chat_id] = max(message_id, self._last_message_id.get(chat_id, 0))
            return message_id

    def remember_message(self, message: dict[str, Any]) -> None:
        with self._cond:
            chat_id, message_id = message["chat"]["id"], message["message_id"]
            self._chats.setdefault(chat_id, message["chat"])
            self._messages[(chat_id, message_id)] = message
            last = self._last_message_id.get(chat_id, 0)
            self._last_message_id[chat_id] = max(last, message_id)

    def _target_chat(self, params: dict[str, Any]) -> int:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _reply_to(self, chat_id: int, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id, lenient = reply.get("message_id"), reply.get("allow_sending_without_reply")
        else:
            message_id = params.get("reply_to_message_id")
            lenient = params.get("allow_sending_without_reply")
        if message_id is None:
            return None
        with self._cond:
            known = (chat_id, int(message_id)) in self._messages
        if known or not self.strict_replies:
            return int(message_id)
        if lenient:
            return None
        raise bad_request("message to be replied not found")

    def _send_message(self, request: Request) -> Any:
        params = request.params
        chat_id = self._target_chat(params)
        text = str(params.get("text") or "")
        plain = _render(text, params.get("parse_mode"), MESSAGE_LIMIT, "message is too long")[0]
        if not plain.strip():
            raise bad_request("message text is empty")
        markup = _reply_markup(params)
        reply_to = self._reply_to(chat_id, params)
        message = self._bot_message(chat_id, reply_to, markup, text=plain)
        with self._cond:
            key = (chat_id, message["message_id"])
            self._sent[key] = SentMessage(
                chat_id=chat_id,
                message_id=message["message_id"],
                text=text,
                parse_mode=params.get("parse_mode"),
                reply_markup=markup,
                reply_to_message_id=reply_to,
                date=message["date"],
                time=time.monotonic(),
                history=[text],
            )
        return message

    def _bot_message(
        self, chat_id: int, reply_to: int | None, markup: dict[str, Any] | None, **content: Any
    ) -> dict[str, Any]:
        with self._cond:
            message: dict[str, Any] = {
                "message_id": self.next_message_id(chat_id),
                "from": self.bot_user(),
                "chat": self.chat(chat_id),
                "date": int(time.time()),
            }
            message.update({key: value for key, value in content.items() if value is not None})
            if reply_to is not None and (chat_id, reply_to) in self._messages:
                message["reply_to_message"] = self._messages[(chat_id, reply_to)]
            if markup is not None and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            self.remember_message(message)
            return message

    def _edit_message_text(self, request: Request) -> Any:
        params = request.params
        text = str(params.get("text") or "")
        parse_mode = params.get("parse_mode")
        plain, shape = _render(text, parse_mode, MESSAGE_LIMIT, "message is too long")
        if not plain.strip():
            raise bad_request("message text is empty")
        markup = _reply_markup(params)
        inline_id = params.get("inline_message_id")
        if inline_id:
            with self._cond:
                self._edits.append(
                    Edit(None, None, inline_id, text, parse_mode, markup, time.monotonic())
                )
                return True
        chat_id = self._target_chat(params)
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        key = (chat_id, int(params["message_id"]))
        with self._cond:
            sent = self._sent.get(key)
            if sent is None or sent.deleted:
                if key in self._messages:
                    raise bad_request("message can't be edited")
                raise bad_request("message to edit not found")
            before = _render(sent.text, sent.parse_mode, None, "")
            if before == (plain, shape) and sent.reply_markup == markup:
                raise bad_request(
                    "message is not modified: specified new message content and reply markup "
                    "are exactly the same as a current content and reply markup of the message"
                )
            sent.text, sent.parse_mode, sent.reply_markup = text, parse_mode, markup
            sent.history.append(text)
            message = dict(self._messages[key], text=plain, edit_date=int(time.time()))
            message.pop("reply_markup", None)
            if markup is not None and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            self._messages[key] = message
            self._edits.append(
                Edit(chat_id, key[1], None, text, parse_mode, markup, time.monotonic())
            )
            return message

    def _edit_message_reply_markup(self, request: Request) -> Any:
        """Only the keyboard of a message the bot sent changes (its text stays)."""
        params = request.params
        markup = _reply_markup(params)
        chat_id = self._target_chat(params)
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        key = (chat_id, int(params["message_id"]))
        with self._cond:
            sent = self._sent.get(key)
            if sent is None or sent.deleted:
                raise bad_request("message to edit not found")
            if sent.reply_markup == markup:
                raise bad_request(
                    "message is not modified: specified new message content and reply markup "
                    "are exactly the same as a current content and reply markup of the message"
                )
            sent.reply_markup = markup
            message = dict(self._messages[key], edit_date=int(time.time()))
            message.pop("reply_markup", None)
            if markup is not None and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            self._messages[key] = message
            self._edits.append(
                Edit(chat_id, key[1], None, sent.text, sent.parse_mode, markup, time.monotonic())
            )
            return message

    def _delete_message(self, request: Request) -> Any:
        chat_id = self._target_chat(request.params)
        key = (chat_id, int(request.params.get("message_id") or 0))
        with self._cond:
            if self._messages.pop(key, None) is None:
                raise bad_request("message to delete not found")
            if key in self._sent:
                self._sent[key].deleted = True
        return True

    def _send_chat_action(self, request: Request) -> Any:
        chat_id = self._target_chat(request.params)
        action = str(request.params.get("action") or "")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        with self._cond:
            self._actions.append(ChatAction(chat_id, action, time.monotonic()))
        return True

    def _send_document(self, request: Request) -> Any:
        params, files = request.params, request.files
        chat_id = self._target_chat(params)
        document = params.get("document")
        upload = files.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            upload = files.get(document.removeprefix("attach://"))
        if upload is not None:
            if not upload.data:
                raise bad_request("file must be non-empty")
            if len(upload.data) > self.upload_limit_bytes:
                raise ApiError(413, "Request Entity Too Large")
            registered = self.register(upload.data)
            filename, mime_type = upload.filename, upload.content_type
        elif isinstance(document, str) and self.file_by_id(document) is not None:
            registered, filename, mime_type = self._files[document], None, None
        elif isinstance(document, str) and document.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        else:
            raise bad_request("there is no document in the request")
        caption = params.get("caption")
        plain = _render(
            caption or "", params.get("parse_mode"), CAPTION_LIMIT, "message caption is too long"
        )[0]
        markup = _reply_markup(params)
        reply_to = self._reply_to(chat_id, params)
        attachment = {
            "file_id": registered.file_id,
            "file_unique_id": registered.file_unique_id,
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": registered.size,
        }
        attachment = {key: value for key, value in attachment.items() if value is not None}
        message = self._bot_message(
            chat_id, reply_to, markup, document=attachment, caption=plain or None
        )
        with self._cond:
            self._documents.append(
                SentDocument(
                    chat_id=chat_id,
                    message_id=message["message_id"],
                    filename=filename,
                    mime_type=mime_type,
                    data=registered.data,
                    caption=caption,
                    parse_mode=params.get("parse_mode"),
                    reply_markup=markup,
                    reply_to_message_id=reply_to,
                    file_id=registered.file_id,
                    time=time.monotonic(),
                )
            )
        return message

    # -- commands and callback queries ----------------------------------------------------

    @staticmethod
    def commands_key(scope: Any, language_code: str | None) -> tuple[str, str]:
        return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""

    def _set_my_commands(self, request: Request) -> Any:
        commands = request.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 commands")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self.commands_key(request.params.get("scope"), request.params.get("language_code"))
        with self._cond:
            self._commands[key] = [dict(command) for command in commands]
        return True

    def _get_my_commands(self, request: Request) -> Any:
        key = self.commands_key(request.params.get("scope"), request.params.get("language_code"))
        with self._cond:
            return list(self._commands.get(key, []))

    def _delete_my_commands(self, request: Request) -> Any:
        key = self.commands_key(request.params.get("scope"), request.params.get("language_code"))
        with self._cond:
            self._commands.pop(key, None)
        return True

    def _get_chat_member(self, request: Request) -> Any:
        """A user's standing in a chat: as set with ``chat_members`` (the bot itself is a
        member of every chat unless set otherwise), else a plain member. Private chats
        have their user as their only member."""
        chat_id = self._target_chat(request.params)
        try:
            user_id = int(request.params.get("user_id") or "")
        except ValueError:
            raise bad_request("user_id is empty") from None
        if chat_id > 0 and user_id not in (chat_id, self.bot_id):
            raise bad_request("user not found")
        with self._cond:
            status = self.chat_members.get((chat_id, user_id), "member")
        user = self.bot_user() if user_id == self.bot_id else user_json(user_id, "Test User", None)
        return chat_member_json(user, status)

    def _answer_callback_query(self, request: Request) -> Any:
        params = request.params
        query_id = str(params.get("callback_query_id") or "")
        with self._cond:
            if self._callback_queries.get(query_id, True):
                raise bad_request(QUERY_INVALID)
            self._callback_queries[query_id] = True
            self._callback_answers.append(
                CallbackAnswer(
                    query_id,
                    params.get("text"),
                    bool(params.get("show_alert")),
                    params.get("url"),
                    time.monotonic(),
                )
            )
        return True

    # -- payments (Telegram Stars) --------------------------------------------------------

    def _send_invoice(self, request: Request) -> Any:
        params = request.params
        chat_id = self._target_chat(params)
        for name in ("title", "description", "payload", "currency"):
            if not params.get(name):
                raise bad_request(f"parameter {name!r} is empty")
        currency, provider_token = str(params["currency"]), params.get("provider_token")
        prices = params.get("prices")
        if not isinstance(prices, list) or not prices:
            raise bad_request("prices must be a non-empty list")
        if any(not isinstance(p.get("amount"), int) or p["amount"] <= 0 for p in prices):
            raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
        if currency == "XTR" and provider_token:
            raise bad_request("PAYMENT_PROVIDER_INVALID: use an empty provider token for Stars")
        if currency == "XTR" and len(prices) != 1:
            raise bad_request("STARS_INVOICE_INVALID: Stars invoices take exactly one price")
        if currency != "XTR" and not provider_token:
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        total = sum(int(price["amount"]) for price in prices)
        invoice = {
            "title": params["title"],
            "description": params["description"],
            "start_parameter": params.get("start_parameter") or "",
            "currency": currency,
            "total_amount": total,
        }
        markup = _reply_markup(params)
        message = self._bot_message(
            chat_id, self._reply_to(chat_id, params), markup, invoice=invoice
        )
        with self._cond:
            self._invoices.append(
                Invoice(
                    chat_id,
                    message["message_id"],
                    params["title"],
                    params["description"],
                    params["payload"],
                    currency,
                    [dict(p) for p in prices],
                    provider_token,
                    dict(params),
                    time.monotonic(),
                )
            )
        return message

    def _answer_pre_checkout_query(self, request: Request) -> Any:
        params = request.params
        query_id = str(params.get("pre_checkout_query_id") or "")
        ok = bool(params.get("ok"))
        if not ok and not params.get("error_message"):
            raise bad_request("error_message must be non-empty when ok is false")
        with self._cond:
            pushed_at = self._pre_checkout_queries.get(query_id)
            age = time.monotonic() - pushed_at if pushed_at is not None else None
            if age is None or age > self.pre_checkout_timeout_seconds:
                raise bad_request(QUERY_INVALID)
            self._pre_checkout_queries[query_id] = None
            self._pre_checkout_answers.append(
                PreCheckoutAnswer(query_id, ok, params.get("error_message"), time.monotonic())
            )
        return True

    def _refund_star_payment(self, request: Request) -> Any:
        params = request.params
        charge_id = str(params.get("telegram_payment_charge_id") or "")
        user_id = int(params.get("user_id") or 0)
        with self._cond:
            if self._charges.get(charge_id) != user_id:
                raise bad_request("CHARGE_ID_INVALID")
            if any(refund.telegram_payment_charge_id == charge_id for refund in self._refunds):
                raise bad_request("CHARGE_ALREADY_REFUNDED")
            self._refunds.append(Refund(user_id, charge_id, time.monotonic()))
        return True


def _render(
    text: str, parse_mode: str | None, limit: int | None, too_long: str
) -> tuple[str, tuple[str, ...]]:
    """The rendered text and tag shape; 400 for bad HTML, an unknown mode or over ``limit``."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        try:
            plain, shape = parse_html(text)
        except HtmlError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    elif mode in ("", "markdown", "markdownv2"):
        plain, shape = text, ()
    else:
        raise bad_request("unsupported parse_mode")
    if limit is not None and utf16_length(plain) > limit:
        raise bad_request(too_long)
    return plain, shape


def _reply_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")
    return markup
