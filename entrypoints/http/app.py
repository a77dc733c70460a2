"""``voicescribe webhook``: an ASGI app that takes Telegram's webhook calls.

A request is checked (secret in constant time, size, JSON shape), its ``update_id``
claimed together with its body in the durable inbox (so a redelivery is acknowledged and
ignored, and a crash loses nothing), and answered 200; the bot handles it afterwards
(``application.inbox`` through ``telegram.update_bridge``: a handler that fails leaves the
update unfinished, retried), giving the loop to acknowledgements first (``ack_first``).
When the store cannot take the update (disk full, locked past its deadline, Tablestore
down), the answer is 503 and Telegram delivers the update again later.

The webhook route is a plain ASGI callable rather than a Starlette request handler: it is
the one hot path of the process, and building Request/Response objects for a body that
is only stored and a 200 with no body doubled its cost. Starlette still routes, serves
``/healthz`` and runs the lifespan (the bot's start and stop, the adapters' close).

``/healthz`` reports the updates held and the job queue's backlog, and answers 503 when a
queued job has waited past ``QUEUE_ALERT_SECONDS`` with no worker taking it, or the queue
cannot be read (``application.queue_watch``, which also tells the owner, from a loop here
when the queue is SQLite).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from application.errors import StorageError
from application.inbox import Inbox
from application.queue_consumer import run_workers
from application.queue_watch import QueueWatch
from entrypoints.composition.container import Container
from entrypoints.composition.warm_start import warm_recognizer
from entrypoints.http.ack_first import AckFirstAdmission, IngressActivity
from entrypoints.http.mini_app_wiring import build_mini_app, build_uploads, sweep_uploads
from entrypoints.telegram.bot import build_bot
from entrypoints.telegram.update_bridge import PtbBridge

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1_000_000
DEFAULT_CONCURRENCY = 32

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyTooLarge(Exception):
    pass


def create_webhook_app(
    container: Container,
    secret: str,
    *,
    workers: int = 0,
    max_body_bytes: int = MAX_BODY_BYTES,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Starlette:
    if not secret:
        raise ValueError("the webhook needs TELEGRAM_WEBHOOK_SECRET")
    ptb = build_bot(container, polling=False)
    activity = IngressActivity()
    admission = AckFirstAdmission(activity)
    inbox = Inbox(
        PtbBridge(ptb),
        container.processed_updates(),
        admission,
        alerts=container.alerts(),
        concurrency=concurrency,
        lease_seconds=container.settings().update_lease_seconds,
        max_attempts=container.settings().update_max_attempts,
    )
    endpoint = WebhookEndpoint(secret, inbox, activity, max_body_bytes)
    settings = container.settings()
    uploads = build_uploads(container)
    queue_watch = QueueWatch(
        container.queue(), container.alerts(), container.clock(), settings.queue_alert_seconds
    )

    async def health(_: Request) -> Response:
        """200 while nothing waits too long; 503 when a queued job has waited past
        QUEUE_ALERT_SECONDS (no worker is taking jobs) or the queue cannot be read."""
        queue = await queue_watch.check()
        body: dict[str, object] = {"status": "ok", "held": inbox.held}
        if queue.backlog is None:
            body.update(status="queue unreadable", queue={"problem": queue.problem})
        else:
            body["queue"] = {
                "depth": queue.backlog.depth,
                "oldest_waiting_seconds": queue.backlog.oldest_waiting_seconds,
            }
            if queue.stalled:
                body["status"] = "queue stalled"
        return JSONResponse(body, status_code=200 if queue.healthy else 503)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        async with ptb:
            await ptb.start()
            await warm_recognizer(container)  # before the port opens: no note waits for it
            await inbox.replay()  # what a dead instance left, once its leases ran out
            gc.freeze()  # start-up's objects live as long as the process: keep them out
            # of the collector's full passes, which otherwise stall the loop ~150 ms
            replaying = asyncio.create_task(inbox.replay_forever())
            pool = asyncio.create_task(run_workers(container.use_cases().consumer, workers, stop))
            # MNS tells no ages: on the cloud the queue is watched by its own metrics.
            watching = (
                asyncio.create_task(queue_watch.watch(stop))
                if settings.queue_backend == "sqlite"
                else None
            )
            sweeping = asyncio.create_task(sweep_uploads(uploads, stop))
            try:
                yield
            finally:
                stop.set()
                replaying.cancel()
                await inbox.drain()
                await inbox.close()
                await ptb.stop()
                await pool
                await sweeping
                if watching is not None:
                    await watching
        await container.closing().close_all()

    routes = [Route(WEBHOOK_PATH, endpoint, methods=["POST"]), Route("/healthz", health)]
    routes += build_mini_app(container, uploads).routes()  # the Mini App: /app, /api/
    app = WebhookApp(endpoint, routes=routes, lifespan=lifespan)
    app.state.inbox = inbox
    return app


class WebhookApp(Starlette):
    """Starlette, but Telegram's POST goes straight to its endpoint: the middleware stack
    and the router cost as much per request as the endpoint itself, and the endpoint
    answers every error it expects on its own (uvicorn answers 500 for anything else)."""

    def __init__(self, endpoint: WebhookEndpoint, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == WEBHOOK_PATH and scope["method"] == "POST":
            await self._endpoint(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class WebhookEndpoint:
    """POST /telegram/webhook: check, claim, answer; the inbox does the rest."""

    def __init__(
        self, secret: str, inbox: Inbox, activity: IngressActivity, max_body_bytes: int
    ) -> None:
        self._secret = secret.encode()
        self._inbox = inbox
        self._activity = activity
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._activity.began()
        try:
            status = await self._answer(scope, receive)
        finally:
            self._activity.ended()
        await send({"type": "http.response.start", "status": status, "headers": _NO_BODY})
        await send({"type": "http.response.body", "body": b""})

    async def _answer(self, scope: Scope, receive: Receive) -> int:
        given, declared = b"", b""
        for name, value in scope["headers"]:
            if name == b"x-telegram-bot-api-secret-token":
                given = value
            elif name == b"content-length":
                declared = value
        if not hmac.compare_digest(given, self._secret):
            return 403
        try:
            body = await _read_limited(receive, declared, self._max_body_bytes)
        except BodyTooLarge:
            return 413
        update_id, text = _parse(body)
        if update_id is None:
            return 400
        try:
            await self._inbox.take(f"update:{update_id}", text)
        except StorageError as error:
            log.warning(
                "update %s not stored, Telegram will deliver it again: %s", update_id, error
            )
            return 503
        return 200  # taken now, or a redelivery of one taken before


_NO_BODY = [(b"content-length", b"0")]


async def _read_limited(receive: Receive, declared: bytes, limit: int) -> bytes:
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body += message.get("body", b"")
        if len(body) > limit:
            raise BodyTooLarge
        more = message.get("more_body", False)
    return body


# Telegram's ids (updates, users, chats, messages) all fit in a signed 64-bit integer.
LARGEST_ID = 2**63 - 1


def _telegram_int(digits: str) -> int:
    """A JSON integer, refused past what any Telegram id can be: a 5,000-digit number is
    not parsed at all (Python would refuse it with a ValueError past 4,300 digits), and
    one that fits Python but not 64 bits would fail only later, in the store."""
    if len(digits.lstrip("-")) > len(str(LARGEST_ID)):
        raise ValueError("integer too long for a Telegram update")
    value = int(digits)
    if abs(value) > LARGEST_ID:
        raise ValueError("integer too large for a Telegram update")
    return value


def _parse(body: bytes) -> tuple[int | None, str]:
    """The update id and the body as text (what the inbox keeps); no id: not an update.

    Hostile JSON is not an update either: nesting too deep for the parser (RecursionError)
    and integers too large for any Telegram id (ValueError) are a 400, never a 500."""
    try:
        text = body.decode("utf-8")
        data = json.loads(text, parse_int=_telegram_int)
    except (UnicodeDecodeError, ValueError, RecursionError):  # JSONDecodeError: a ValueError
        return None, ""
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None, ""
    return update_id, text
