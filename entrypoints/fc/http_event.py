"""Function Compute 3.0 HTTP triggers spoken as ASGI, so the webhook app runs unchanged.

Why: in a built-in runtime an HTTP trigger does not open a socket to the function; it
hands the handler one event (``version``, ``rawPath``, ``headers``, ``queryParameters``,
``body``, ``isBase64Encoded``, ``requestContext``) and turns the returned
``{"statusCode", "headers", "body", "isBase64Encoded"}`` back into the HTTP answer. This
module translates that event into an ASGI ``http`` scope, calls the Starlette app of
``voicescribe webhook`` in-process, and collects its answer, so the secret check, the
size cap, the ``update_id`` claim and the hand-over to the bot are the very code the
uvicorn deployment runs. ``AsgiLifespan`` runs the app's lifespan (the bot's start and
the adapters' close) as a server would: once per instance, not once per request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import unquote, urlencode

import attrs

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class NotAnHttpEvent(ValueError):
    """The event is not what an FC 3.0 HTTP trigger sends."""


@attrs.frozen
class HttpRequest:
    method: str
    path: str
    raw_path: str
    query_string: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    client_ip: str
    host: str


@attrs.frozen
class HttpResponse:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def to_fc(self) -> dict[str, object]:
        """The response struct FC maps back to HTTP: text as is, anything else base64."""
        merged: dict[str, str] = {}
        for name, value in self.headers:  # FC takes one string per header
            merged[name] = f"{merged[name]}, {value}" if name in merged else value
        try:
            text, encoded = self.body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(self.body).decode("ascii"), True
        return {"statusCode": self.status, "headers": merged, "body": text,
                "isBase64Encoded": encoded}  # fmt: skip


def parse_http_event(event: bytes | str | Mapping[str, Any]) -> HttpRequest:
    """The request an HTTP trigger event describes. Raises NotAnHttpEvent."""
    data = _json_object(event)
    context = data.get("requestContext")
    http = context.get("http") if isinstance(context, Mapping) else None
    if not isinstance(http, Mapping) or not isinstance(data.get("rawPath", ""), str):
        raise NotAnHttpEvent("no requestContext.http: not an HTTP trigger event")
    raw_path = str(data.get("rawPath") or http.get("path") or "/")
    headers = data.get("headers") or {}
    query = data.get("queryParameters") or {}
    if not isinstance(headers, Mapping) or not isinstance(query, Mapping):
        raise NotAnHttpEvent("headers and queryParameters must be objects")
    return HttpRequest(
        method=str(http.get("method") or "GET").upper(),
        path=str(http.get("path") or unquote(raw_path)),
        raw_path=raw_path,
        query_string=urlencode([(str(k), str(v)) for k, v in query.items()]),
        headers=tuple((str(k).lower(), str(v)) for k, v in headers.items()),
        body=_body(data.get("body"), bool(data.get("isBase64Encoded"))),
        client_ip=str(http.get("sourceIp") or ""),
        host=str(context.get("domainName") or "") if isinstance(context, Mapping) else "",
    )


async def call_asgi(app: AsgiApp, request: HttpRequest) -> HttpResponse:
    """One request through ``app``; an app that fails is answered 500, as a server would."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "https",
        "path": request.path,
        "raw_path": request.raw_path.encode("utf-8"),
        "root_path": "",
        "query_string": request.query_string.encode("ascii"),
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request.headers],
        "client": (request.client_ip, 0) if request.client_ip else None,
        "server": (request.host, 443) if request.host else None,
        "state": {},
    }
    answered = asyncio.Event()
    body_sent = False
    status: int | None = None
    headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        await answered.wait()  # the whole body was given: the client "leaves" after the answer
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers.extend(
                (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                for k, v in message.get("headers", [])
            )
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                answered.set()

    try:
        await app(scope, receive, send)
    except Exception:
        log.exception("the webhook app failed on %s %s", request.method, request.path)
        if status is None:
            return HttpResponse(500)
    finally:
        answered.set()
    return HttpResponse(status or 500, tuple(headers), b"".join(chunks))


class AsgiLifespan:
    """Runs an ASGI app's lifespan in a task of its own: ``start`` returns once the app
    reported its start-up, ``stop`` asks for shut-down and waits until it is done."""

    def __init__(self, app: AsgiApp) -> None:
        self._app = app
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._started: asyncio.Future[None] | None = None
        self._stopped: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Raises RuntimeError when the app's start-up fails (the bot could not start)."""
        loop = asyncio.get_running_loop()
        self._started, self._stopped = loop.create_future(), loop.create_future()
        await self._inbox.put({"type": "lifespan.startup"})
        self._task = asyncio.create_task(self._run(), name="asgi-lifespan")
        await self._started

    async def stop(self) -> None:
        if self._task is None or self._stopped is None:
            return
        if not self._task.done():
            await self._inbox.put({"type": "lifespan.shutdown"})
            await asyncio.shield(self._stopped)
        await self._task

    async def _run(self) -> None:
        scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"},
                        "state": {}}  # fmt: skip
        try:
            await self._app(scope, self._inbox.get, self._send)
        except Exception as error:
            log.exception("the webhook app's lifespan failed")
            self._settle(RuntimeError(f"the webhook app's lifespan failed: {error}"))
        else:
            self._settle(RuntimeError("the webhook app's lifespan ended early"))

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        failure = RuntimeError(f"{kind}: {message.get('message', '')}")
        if kind == "lifespan.startup.complete":
            _resolve(self._started)
        elif kind == "lifespan.startup.failed":
            _resolve(self._started, failure)
        elif kind == "lifespan.shutdown.complete":
            _resolve(self._stopped)
        elif kind == "lifespan.shutdown.failed":
            _resolve(self._stopped, failure)

    def _settle(self, error: Exception) -> None:
        """The lifespan task ended: whoever still waits gets an answer."""
        _resolve(self._started, error)
        if self._stopped is not None and not self._stopped.done():
            self._stopped.set_result(None)


def _resolve(future: asyncio.Future[None] | None, error: Exception | None = None) -> None:
    if future is None or future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _json_object(event: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(event, Mapping):
        return event
    try:
        data = json.loads(event)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise NotAnHttpEvent(f"the event is not JSON: {error}") from error
    if not isinstance(data, Mapping):
        raise NotAnHttpEvent("the event is not a JSON object")
    return data


def _body(body: object, is_base64: bool) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, str):
        raise NotAnHttpEvent("body must be a string")
    if not is_base64:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as error:
        raise NotAnHttpEvent(f"isBase64Encoded, but the body is not base64: {error}") from error
