"""``TelegramFake``: the server, the updates a test pushes, and what the bot did."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any, TypeVar

from tests.fakes.telegram._api import DROP, BotApi, Request
from tests.fakes.telegram._records import (
    Call,
    CallbackAnswer,
    ChatAction,
    Edit,
    Invoice,
    PreCheckoutAnswer,
    Refund,
    SentDocument,
    SentMessage,
    UploadedFile,
)
from tests.fakes.telegram._updates import (
    chat_json,
    chat_member_json,
    command_entities,
    message_json,
    user_json,
)
from tests.fakes.telegram._wire import ApiError, ClientGone, Reply, handler_for, json_reply

DEFAULT_TOKEN = "123456789:AAFakeTokenForVoiceScribeTests-0123456789"
GROUP_ANONYMOUS_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
DROPPED_CONNECTION = 0  # fail_next's error code for "close the socket, answer nothing"
T = TypeVar("T")
JSON = dict[str, Any]


@dataclass
class _Failure:
    method: str
    error: ApiError
    remaining: int
    chat_id: int | str | None
    passing: int = 0  # matching calls let through before the failures begin


class TelegramFake(BotApi):
    """A Bot API server on 127.0.0.1: ``with TelegramFake() as fake: ...``.

    Point PTB at it with ``base_url=fake.base_url, base_file_url=fake.base_file_url``
    and ``fake.token``. Public attributes a test may set: ``download_limit_bytes``
    (``None`` = a local Bot API server without the 20 MB limit), ``upload_limit_bytes``,
    ``pre_checkout_timeout_seconds``, ``strict_replies`` (reply to an unknown message ->
    400), ``blocked_chats`` (every send/edit there -> 403), ``latency`` (seconds by method).
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "voicescribe_test_bot",
        bot_first_name: str = "VoiceScribe Test",
    ) -> None:
        super().__init__(token, bot_username, bot_first_name)
        self.calls: list[Call] = []
        self.downloads: list[str] = []
        self.latency: dict[str, float] = {}
        self._failures: list[_Failure] = []
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> TelegramFake:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def api_base_url(self) -> str:
        """``http://127.0.0.1:<port>``: the root, without ``/bot``."""
        if self._server is None:
            raise RuntimeError("TelegramFake is not running: use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)`` / ``ApplicationBuilder().base_url(...)``."""
        return f"{self.api_base_url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``Bot(base_file_url=...)`` / ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.api_base_url}/file/bot"

    # -- the HTTP backend -----------------------------------------------------------------

    def handle_api(
        self,
        token: str,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        client_gone: ClientGone,
    ) -> Reply:
        if token != self.token:
            return json_reply(*_token_error(token))
        call = Call(method, params, files, time.monotonic())
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()
        try:
            self._before(method, params)
            handler = self.methods().get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            result = handler(Request(params, files, client_gone))
        except ApiError as error:
            self._finish(call, error.error_code, error.description)
            if error.error_code == DROPPED_CONNECTION:
                return None
            return json_reply(error.error_code, error.envelope())
        if result is DROP:
            self._finish(call, 499, "client closed the connection")
            return None
        self._finish(call, None, None, result)
        return json_reply(200, {"ok": True, "result": result})

    def handle_download(self, token: str, file_path: str) -> Reply:
        if token != self.token:
            return json_reply(404, ApiError(404).envelope())
        try:
            self._before("download", {})
        except ApiError as error:
            if error.error_code == DROPPED_CONNECTION:
                return None
            return json_reply(error.error_code, error.envelope())
        registered = self.file_at(file_path)
        if registered is None:
            return json_reply(404, ApiError(404).envelope())
        with self._cond:
            self.downloads.append(file_path)
            self._cond.notify_all()
        return 200, registered.data, "application/octet-stream"

    def _before(self, method: str, params: dict[str, Any]) -> None:
        """Per-method latency, then a scripted failure if one matches."""
        delay = self.latency.get(method.lower(), 0.0)
        if delay > 0:
            self._stopping.wait(delay)
        with self._cond:
            for failure in self._failures:
                chat_matches = failure.chat_id is None or str(failure.chat_id) == str(
                    params.get("chat_id")
                )
                if failure.method == method.lower() and chat_matches and failure.remaining > 0:
                    if failure.passing > 0:
                        failure.passing -= 1
                        continue
                    failure.remaining -= 1
                    raise failure.error

    def _finish(
        self, call: Call, error_code: int | None, description: str | None, result: Any = None
    ) -> None:
        with self._cond:
            call.error_code, call.description, call.result = error_code, description, result
            call.finished = time.monotonic()
            self._cond.notify_all()

    # -- scripting ------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        *,
        chat_id: int | str | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (any case; ``"download"`` for file
        downloads), optionally only those for ``chat_id``, with an error. Descriptions
        default to Telegram's: 429 -> "Too Many Requests: retry after N" with
        ``parameters.retry_after`` (default 1), 403 -> "Forbidden: bot was blocked by the
        user", 400 -> "Bad Request", 500 -> "Internal Server Error". ``error_code``
        ``DROPPED_CONNECTION`` (0) closes the connection without any answer (recorded with
        error code 0), as a network failure between the bot and Telegram would. ``after``
        lets that many matching calls through first (e.g. to fail a long answer's second
        part)."""
        error = ApiError(error_code, description, retry_after)
        with self._cond:
            self._failures.append(_Failure(method.lower(), error, times, chat_id, after))

    def unspent_failures(self) -> list[tuple[str, int | str | None, int]]:
        """(method, chat id, failures left) of each ``fail_next`` not yet used up: a test
        checks its scripted fault really met a call."""
        with self._cond:
            return [(f.method, f.chat_id, f.remaining) for f in self._failures if f.remaining]

    def set_latency(self, method: str, seconds: float) -> None:
        """Wait ``seconds`` before answering each call of ``method`` (or ``"download"``)."""
        self.latency[method.lower()] = seconds

    def register_file(
        self,
        data: bytes,
        file_unique_id: str | None = None,
        *,
        file_path: str | None = None,
        file_size: int | None = None,
    ) -> str:
        """Make ``data`` downloadable; returns its file_id. ``file_size`` overrides the size
        getFile reports (e.g. 25 MB to hit "file is too big" without the bytes)."""
        return self.register(data, file_unique_id, file_path=file_path, file_size=file_size).file_id

    # -- updates --------------------------------------------------------------------------

    def push_raw(self, update: JSON) -> JSON:
        """Queue ``update`` as is (an ``update_id`` is assigned if missing) and learn the
        messages, callback/pre-checkout queries and payment charges it holds."""
        with self._cond:
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
            for kind in ("message", "edited_message", "channel_post", "business_message"):
                if isinstance(update.get(kind), dict):
                    self._learn_message(update[kind])
            query = update.get("callback_query")
            if isinstance(query, dict):
                self._callback_queries[str(query["id"])] = False
            checkout = update.get("pre_checkout_query")
            if isinstance(checkout, dict):
                self._pre_checkout_queries[str(checkout["id"])] = time.monotonic()
            self._pending.append(update)
            self._cond.notify_all()
        return update

    def _learn_message(self, message: JSON) -> None:
        self.remember_message(message)
        payment = message.get("successful_payment")
        if isinstance(payment, dict):
            self._charges[payment["telegram_payment_charge_id"]] = message["from"]["id"]

    def _user_message(
        self,
        user_id: int,
        chat_id: int,
        content: JSON,
        *,
        language_code: str | None,
        message_id: int | None,
        update_id: int | None,
        first_name: str,
        username: str | None,
    ) -> JSON:
        user = user_json(user_id, first_name, language_code, username)
        # A group the fake knows keeps its type (a basic group the bot was added to).
        known = self._chats.get(chat_id) if chat_id < 0 else None
        chat = known or chat_json(chat_id, user)
        message = message_json(self.next_message_id(chat_id, message_id), user, chat, **content)
        return self.push_raw(_with_id({"message": message}, update_id))

    def push_voice(
        self,
        user_id: int,
        chat_id: int,
        file_id: str,
        duration: int,
        *,
        language_code: str | None = "en",
        message_id: int | None = None,
        update_id: int | None = None,
        mime_type: str = "audio/ogg",
        caption: str | None = None,
        first_name: str = "Test User",
        username: str | None = None,
    ) -> JSON:
        voice = self.media_json(file_id) | {"duration": duration, "mime_type": mime_type}
        return self._user_message(
            user_id,
            chat_id,
            {"voice": voice, "caption": caption},
            language_code=language_code,
            message_id=message_id,
            update_id=update_id,
            first_name=first_name,
            username=username,
        )

    def push_audio(
        self,
        user_id: int,
        chat_id: int,
        file_id: str,
        duration: int,
        *,
        language_code: str | None = "en",
        message_id: int | None = None,
        update_id: int | None = None,
        mime_type: str = "audio/mpeg",
        file_name: str | None = "audio.mp3",
        title: str | None = None,
        performer: str | None = None,
        caption: str | None = None,
        first_name: str = "Test User",
        username: str | None = None,
    ) -> JSON:
        audio = self.media_json(file_id) | _present(
            duration=duration,
            mime_type=mime_type,
            file_name=file_name,
            title=title,
            performer=performer,
        )
        return self._user_message(
            user_id,
            chat_id,
            {"audio": audio, "caption": caption},
            language_code=language_code,
            message_id=message_id,
            update_id=update_id,
            first_name=first_name,
            username=username,
        )

    def push_video(
        self,
        user_id: int,
        chat_id: int,
        file_id: str,
        duration: int,
        *,
        language_code: str | None = "en",
        message_id: int | None = None,
        update_id: int | None = None,
        mime_type: str = "video/mp4",
        file_name: str | None = "video.mp4",
        width: int = 640,
        height: int = 360,
        caption: str | None = None,
        first_name: str = "Test User",
        username: str | None = None,
    ) -> JSON:
        video = self.media_json(file_id) | _present(
            duration=duration, width=width, height=height, mime_type=mime_type, file_name=file_name
        )
        return self._user_message(
            user_id,
            chat_id,
            {"video": video, "caption": caption},
            language_code=language_code,
            message_id=message_id,
            update_id=update_id,
            first_name=first_name,
            username=username,
        )

    def push_video_note(
        self,
        user_id: int,
        chat_id: int,
        file_id: str,
        duration: int,
        *,
        language_code: str | None = "en",
        message_id: int | None = None,
        update_id: int | None = None,
        length: int = 240,
        first_name: str = "Test User",
        username: str | None = None,
    ) -> JSON:
        note = self.media_json(file_id) | {"duration": duration, "length": length}
        return self._user_message(
            user_id,
            chat_id,
            {"video_note": note},
            language_code=language_code,
            message_id=message_id,
            update_id=update_id,
            first_name=first_name,
            username=username,
        )

    def push_document(
        self,
        user_id: int,
        chat_id: int,
        file_id: str,
        *,
        language_code: str | None = "en",
        message_id: int | None = None,
        update_id: int | None = None,
        mime_type: str | None = "application/octet-stream",
        file_name: str | None = "file.bin",
        caption: str | None = None,
        first_name: str = "Test User",
        username: str | None = None,
    ) -> JSON:
        document = self.media_json(file_id) | _present(mime_type=mime_type, file_name=file_name)
        return self._user_message(
            user_id,
            chat_id,
            {"document": document, "caption": caption},
            language_code=language_code,
            message_id=message_id,
            update_id=update_id,
            first_name=first_name,
            username=username,
        )

    def push_text(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        *,
        language_code: str | None = "en",
        message_id: int | None = None,
        update_id: int | None = None,
        first_name: str = "Test User",
        username: str | None = None,
    ) -> JSON:
        """A text message; ``"/start ref_1"`` gets the ``bot_command`` entity of a command."""
        return self._user_message(
            user_id,
            chat_id,
            {"text": text, "entities": command_entities(text)},
            language_code=language_code,
            message_id=message_id,
            update_id=update_id,
            first_name=first_name,
            username=username,
        )

    def push_callback_query(
        self,
        user_id: int,
        chat_id: int,
        data: str,
        *,
        message_id: int | None = None,
        language_code: str | None = "en",
        update_id: int | None = None,
        query_id: str | None = None,
        first_name: str = "Test User",
        username: str | None = None,
    ) -> JSON:
        """A button press on the bot's message ``message_id`` (default: its latest message
        in the chat with an inline keyboard, else its latest message)."""
        user = user_json(user_id, first_name, language_code, username)
        with self._cond:
            message = self._callback_message(chat_id, message_id)
        query = {
            "id": query_id or str(secrets.randbits(63)),
            "from": user,
            "chat_instance": str(abs(hash(chat_id)) % 10**18),
            "data": data,
            "message": message,
        }
        return self.push_raw(_with_id({"callback_query": query}, update_id))

    def push_anonymous_admin_text(
        self, chat_id: int, text: str, *, update_id: int | None = None
    ) -> JSON:
        """A text an anonymous admin sends on behalf of the group: ``from`` is
        GroupAnonymousBot and ``sender_chat`` the group itself, as Telegram shows it."""
        message = message_json(
            self.next_message_id(chat_id),
            dict(GROUP_ANONYMOUS_BOT),
            self.chat(chat_id),
            sender_chat=self.chat(chat_id),
            text=text,
            entities=command_entities(text),
        )
        return self.push_raw(_with_id({"message": message}, update_id))

    def push_my_chat_member(
        self,
        chat_id: int,
        by_user_id: int,
        new_status: str,
        *,
        old_status: str = "left",
        chat_type: str | None = None,
        update_id: int | None = None,
    ) -> JSON:
        """The bot's own membership changed (``my_chat_member``): added to a group
        (``left`` -> ``member`` / ``administrator``), promoted, removed. ``chat_members``
        follows the new status, so getChatMember agrees with the update."""
        by = user_json(by_user_id, "Test User", "en")
        chat = chat_json(chat_id, by, chat_type)
        with self._cond:
            self._chats[chat_id] = chat
            self.chat_members[(chat_id, self.bot_id)] = new_status
        change = {
            "chat": chat,
            "from": by,
            "date": int(time.time()),
            "old_chat_member": chat_member_json(self.bot_user(), old_status),
            "new_chat_member": chat_member_json(self.bot_user(), new_status),
        }
        return self.push_raw(_with_id({"my_chat_member": change}, update_id))

    def push_migration(
        self, group_id: int, supergroup_id: int, *, by_user_id: int
    ) -> tuple[JSON, JSON]:
        """A group upgraded to a supergroup, as Telegram announces it: a service message
        in the old group (``migrate_to_chat_id``) and one in the new supergroup
        (``migrate_from_chat_id``)."""
        by = user_json(by_user_id, "Test User", "en")
        group = chat_json(group_id, by, "group")
        supergroup = chat_json(supergroup_id, by, "supergroup")
        moved_to = message_json(
            self.next_message_id(group_id), by, group, migrate_to_chat_id=supergroup_id
        )
        moved_from = message_json(
            self.next_message_id(supergroup_id), by, supergroup, migrate_from_chat_id=group_id
        )
        return self.push_raw({"message": moved_to}), self.push_raw({"message": moved_from})

    def _callback_message(self, chat_id: int, message_id: int | None) -> JSON:
        if message_id is not None and (chat_id, message_id) in self._messages:
            return self._messages[(chat_id, message_id)]
        mine = [
            m
            for (chat, _), m in self._messages.items()
            if chat == chat_id and m["from"]["id"] == self.bot_id
        ]
        keyboards = [m for m in mine if "reply_markup" in m]
        if message_id is None and (keyboards or mine):
            return (keyboards or mine)[-1]
        return {
            "message_id": message_id or self.next_message_id(chat_id),
            "from": self.bot_user(),
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            "text": "…",
        }

    def push_pre_checkout_query(
        self,
        user_id: int,
        currency: str,
        total_amount: int,
        invoice_payload: str,
        *,
        language_code: str | None = "en",
        update_id: int | None = None,
        query_id: str | None = None,
        first_name: str = "Test User",
        username: str | None = None,
    ) -> JSON:
        """The user pressed Pay: answer with answerPreCheckoutQuery within
        ``pre_checkout_timeout_seconds`` (10 s, as Telegram)."""
        query = {
            "id": query_id or str(secrets.randbits(63)),
            "from": user_json(user_id, first_name, language_code, username),
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": invoice_payload,
        }
        return self.push_raw(_with_id({"pre_checkout_query": query}, update_id))

    def push_successful_payment(
        self,
        user_id: int,
        chat_id: int,
        currency: str,
        total_amount: int,
        invoice_payload: str,
        *,
        language_code: str | None = "en",
        message_id: int | None = None,
        update_id: int | None = None,
        telegram_payment_charge_id: str | None = None,
        first_name: str = "Test User",
        username: str | None = None,
    ) -> JSON:
        """The service message after a payment; its charge id can be refunded once."""
        charge_id = telegram_payment_charge_id or f"stxFake{secrets.token_hex(12)}"
        payment = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": invoice_payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
        }
        return self._user_message(
            user_id,
            chat_id,
            {"successful_payment": payment},
            language_code=language_code,
            message_id=message_id,
            update_id=update_id,
            first_name=first_name,
            username=username,
        )

    def pending_updates(self) -> list[JSON]:
        """Updates not yet acknowledged by a getUpdates ``offset`` (or a webhook 2xx)."""
        with self._cond:
            return list(self._pending)

    # -- what the bot did -----------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._cond:
            return [call for call in self.calls if call.method.lower() == method.lower()]

    def methods_called(self) -> list[str]:
        with self._cond:
            return [call.method for call in self.calls]

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Text messages sent with sendMessage, in order (deleted ones included)."""
        with self._cond:
            sent = sorted(self._sent.values(), key=lambda message: message.time)
            return [m for m in sent if chat_id is None or m.chat_id == chat_id]

    def edits(self, chat_id: int | None = None) -> list[Edit]:
        with self._cond:
            return [e for e in self._edits if chat_id is None or e.chat_id == chat_id]

    def documents(self, chat_id: int | None = None) -> list[SentDocument]:
        with self._cond:
            return [d for d in self._documents if chat_id is None or d.chat_id == chat_id]

    def chat_actions(self, chat_id: int | None = None) -> list[ChatAction]:
        with self._cond:
            return [a for a in self._actions if chat_id is None or a.chat_id == chat_id]

    def invoices(self, chat_id: int | None = None) -> list[Invoice]:
        with self._cond:
            return [i for i in self._invoices if chat_id is None or i.chat_id == chat_id]

    def callback_answers(self) -> list[CallbackAnswer]:
        with self._cond:
            return list(self._callback_answers)

    def pre_checkout_answers(self) -> list[PreCheckoutAnswer]:
        with self._cond:
            return list(self._pre_checkout_answers)

    def refunds(self) -> list[Refund]:
        with self._cond:
            return list(self._refunds)

    def my_commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """What setMyCommands stored for ``scope`` (default scope) and ``language_code``."""
        with self._cond:
            return list(self._commands.get(self.commands_key(scope, language_code), []))

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0, message: str = "") -> T:
        """Poll ``predicate`` until it returns something truthy and return that; on timeout
        fail with an AssertionError listing the methods called so far. Blocks the thread:
        in async tests use ``wait_for_async``."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(self._timeout_text(timeout, message))
            with self._cond:
                self._cond.wait(min(remaining, 0.02))

    async def wait_for_async(
        self,
        predicate: Callable[[], T],
        timeout: float = 5.0,  # noqa: ASYNC109 - a polling deadline, as in wait_for
        message: str = "",
    ) -> T:
        """``wait_for`` that yields to the event loop (where the bot under test runs)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_text(timeout, message))
            await asyncio.sleep(0.01)

    def _timeout_text(self, timeout: float, message: str) -> str:
        return (
            f"timed out after {timeout} s waiting for {message or 'the condition'}; "
            f"methods called: {self.methods_called()}"
        )

    # -- webhook delivery -----------------------------------------------------------------

    def deliver_webhook(self, timeout: float = 5.0) -> list[int]:
        """POST the pending updates, in order, to the URL given to setWebhook (with the
        ``X-Telegram-Bot-Api-Secret-Token`` header when a secret was set). An update is
        acknowledged by a 2xx; delivery stops at the first failure, which getWebhookInfo
        then reports. Returns the HTTP statuses (0: no connection). Delivery is manual:
        the fake never posts on its own."""
        statuses: list[int] = []
        for update in self.pending_updates():
            webhook = self.webhook
            if webhook is None:
                break
            status = _post_json(webhook.url, update, webhook.secret_token, timeout)
            statuses.append(status)
            with self._cond:
                if 200 <= status < 300:
                    self._pending = [u for u in self._pending if u is not update]
                    self._cond.notify_all()
                    continue
                reason = "Connection refused"
                if status:
                    reason = f"Wrong response from the webhook: {status}"
                self.webhook_last_error = (int(time.time()), reason)
            break
        return statuses

    async def deliver_webhook_async(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - each POST's socket timeout, as in deliver_webhook
    ) -> list[int]:
        """``deliver_webhook`` off the event loop, so an in-process endpoint can answer."""
        return await asyncio.to_thread(self.deliver_webhook, timeout)


def _token_error(token: str) -> tuple[int, JSON]:
    """Telegram: 401 for a well-formed but unknown token, 404 for a malformed one."""
    if re.fullmatch(r"\d+:[A-Za-z0-9_-]+", token):
        return 401, ApiError(401, "Unauthorized").envelope()
    return 404, ApiError(404, "Not Found").envelope()


def _present(**fields: Any) -> JSON:
    return {key: value for key, value in fields.items() if value is not None}


def _with_id(update: JSON, update_id: int | None) -> JSON:
    return update if update_id is None else {"update_id": update_id, **update}


def _post_json(url: str, payload: JSON, secret: str | None, timeout: float) -> int:
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError):
        return 0
