"""A local fake of Alibaba Cloud MNS queues that speaks the real wire protocol.

Why this exists: the MNS job queue adapter is tested with the real aliyun-mns-sdk as its
client, so the signature, the XML bodies, long polling, receipt handles and the error
mapping under test are the production ones. The fake checks every request's
``Authorization: MNS ak:sig`` and Content-MD5, keeps queues in memory with visibility
timeouts, receipt handles and dequeue counts, records every request, and plays scripted
faults (error statuses, malformed XML, delays). Visibility uses an injectable clock, so
tests move time instead of sleeping; long polls wait in real time and wake on a send.
Besides its static keys it accepts temporary STS keys a test grants (``grant_sts``): such a
request must carry the key's token in the ``security-token`` header, as MNS requires, and a
revoked (expired) key is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import socket
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

NS = "http://mns.aliyuncs.com/doc/v1/"
HOST_ID = "http://mns.fake.local"
_QUEUE_DEFAULTS = {"VisibilityTimeout": 30, "DelaySeconds": 0, "MaximumMessageSize": 65536,
                   "MessageRetentionPeriod": 345600, "PollingWaitSeconds": 0}  # fmt: skip
_QUEUE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,255}$")
_OPERATIONS = {("PUT", 2): "CreateQueue", ("GET", 2): "GetQueueAttributes",
               ("DELETE", 2): "DeleteQueue", ("POST", 3): "SendMessage",
               ("GET", 3): "ReceiveMessage", ("DELETE", 3): "DeleteMessage",
               ("PUT", 3): "ChangeMessageVisibility"}  # fmt: skip


@dataclass(frozen=True)
class Fault:
    """One scripted answer: pause ``delay_seconds``, then an error ``status`` with ``code``,
    or a 200 of broken XML (``malformed``), or (``status=None``) the normal answer.
    ``operation`` (e.g. ``"ReceiveMessage"``) limits it to requests of one API."""

    status: int | None = 503
    code: str = "ServiceUnavailable"
    malformed: bool = False
    delay_seconds: float = 0.0
    operation: str | None = None


@dataclass(frozen=True)
class RecordedRequest:
    operation: str
    method: str
    target: str
    headers: dict[str, str]
    body: str
    status: int

    def field(self, tag: str) -> str | None:
        """Text of one element of the XML body, namespace ignored."""
        node = ET.fromstring(self.body).find(f"{{{NS}}}{tag}") if self.body else None
        return None if node is None else node.text


@dataclass
class _Message:
    message_id: str
    body: str
    enqueued_ms: int
    visible_at: float
    priority: int
    dequeue_count: int = 0
    first_dequeue_ms: int = 0
    receipt: str | None = None


@dataclass
class _Queue:
    name: str
    attributes: dict[str, int]
    created: int
    messages: list[_Message] = field(default_factory=list)


class MnsError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class MnsFake:
    """Context manager: ``with MnsFake() as mns: Account(mns.endpoint, mns.access_key_id, ...)``."""

    def __init__(
        self,
        access_key_id: str = "test-ak",
        access_key_secret: str = "test-secret",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.access_key_id, self.access_key_secret, self.clock = (
            access_key_id, access_key_secret, clock)  # fmt: skip
        self.requests: list[RecordedRequest] = []
        self._faults: deque[Fault] = deque()
        self._queues: dict[str, _Queue] = {}
        self._cond = threading.Condition()
        self._receipts = itertools.count(1)
        self._connections: set[socket.socket] = set()
        self._closing = False
        self._in_flight = 0
        self.max_in_flight = 0
        self._sts: dict[str, tuple[str, str]] = {}  # key id: secret, token

    def __enter__(self) -> MnsFake:
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        for connection in list(self._connections):
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add_queue(self, name: str, visibility_timeout: int = 30) -> None:
        """Create a queue directly (not over the wire)."""
        with self._cond:
            attributes = {**_QUEUE_DEFAULTS, "VisibilityTimeout": visibility_timeout}
            self._queues[name] = _Queue(name, attributes, int(self.clock()))

    def attributes(self, name: str) -> dict[str, int]:
        with self._cond:
            return dict(self._queues[name].attributes)

    def depth(self, name: str) -> int:
        """Messages in the queue, hidden ones included."""
        with self._cond:
            return len(self._queues[name].messages)

    def grant_sts(self, key_id: str, secret: str, token: str) -> None:
        """Accept requests signed with this temporary key and carrying its token."""
        with self._cond:
            self._sts[key_id] = (secret, token)

    def revoke_sts(self, key_id: str) -> None:
        """The temporary key expired: requests signed with it are refused from now on."""
        with self._cond:
            self._sts.pop(key_id, None)

    def inject(self, *faults: Fault) -> MnsFake:
        """Answer the next matching requests with ``faults``, in order."""
        with self._cond:
            self._faults.extend(faults)
        return self

    def wake(self) -> None:
        """Let long polls look again now (after a test moved the clock)."""
        with self._cond:
            self._cond.notify_all()

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> _Reply:
        url = urlsplit(target)
        parts = url.path.strip("/").split("/")
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        operation = _operation(method, parts, query)
        extra: dict[str, str] = {}
        with self._cond:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            self._authenticate(method, target, headers, raw)
            fault = self._next_fault(operation)
            if fault is not None:
                time.sleep(fault.delay_seconds)
                if fault.malformed:
                    raise _Malformed
                if fault.status is not None:
                    raise MnsError(fault.status, fault.code, "injected fault")
            status, payload = self._dispatch(operation, parts, query, raw.decode(), extra)
        except ValueError as error:  # a number that is not one, in a query or a body
            status, payload = 400, _error_xml(MnsError(400, "InvalidArgument", str(error)))
        except MnsError as error:
            status, payload = error.status, _error_xml(error)
        except _Malformed:
            status, payload = 200, '<?xml version="1.0"?><Message><MessageId>broken'
        body = raw.decode(errors="replace")
        with self._cond:
            self._in_flight -= 1
            self.requests.append(RecordedRequest(operation, method, target, headers, body, status))
        return status, extra, payload.encode()

    def _authenticate(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> None:
        scheme, _, credential = headers.get("authorization", "").partition(" ")
        key_id, _, signature = credential.partition(":")
        if scheme != "MNS" or not signature:
            raise MnsError(400, "InvalidAuthorizationHeader", "Authorization header is invalid.")
        if "date" not in headers:
            raise MnsError(400, "MissingDateHeader", "Date header is required.")
        if abs(_timestamp(headers["date"]) - time.time()) > 900:
            raise MnsError(408, "TimeExpired", "The http request you sent is expired.")
        if headers.get("x-mns-version") != "2015-06-06":
            raise MnsError(400, "InvalidVersionHeader", "x-mns-version must be 2015-06-06.")
        with self._cond:
            granted = self._sts.get(key_id)
        secret = self.access_key_secret if granted is None else granted[0]
        if key_id != self.access_key_id and granted is None:
            raise MnsError(403, "InvalidAccessKeyId", "The AccessKey Id you provided is not exist.")
        if granted is not None and headers.get("security-token") != granted[1]:
            raise MnsError(403, "InvalidSecurityToken", "The security token is invalid.")
        digest = base64.b64encode(hashlib.md5(raw).hexdigest().encode()).decode()
        if raw and headers.get("content-md5") != digest:
            raise MnsError(400, "InvalidDegist", "The Content-MD5 you specified is invalid.")
        signed = "".join(f"{k}:{headers[k]}\n" for k in sorted(headers) if k.startswith("x-mns-"))
        md5, kind = headers.get("content-md5", ""), headers.get("content-type", "")
        text = "\n".join([method, md5, kind, headers["date"], signed + target])
        mac = hmac.new(secret.encode(), text.encode(), hashlib.sha1)
        if not hmac.compare_digest(base64.b64encode(mac.digest()).decode(), signature):
            raise MnsError(403, "SignatureDoesNotMatch", "The request signature does not match.")

    def _next_fault(self, operation: str) -> Fault | None:
        with self._cond:
            for fault in self._faults:
                if fault.operation in (None, operation):
                    self._faults.remove(fault)
                    return fault
        return None

    def _dispatch(
        self, operation: str, parts: list[str], query: dict[str, str], body: str,
        extra: dict[str, str],
    ) -> tuple[int, str]:  # fmt: skip
        if operation == "Unknown":
            raise MnsError(400, "InvalidRequestURL", "Http request URL format invalid.")
        if operation == "CreateQueue":
            return self._create_queue(parts[1], _fields(body, "Queue"), extra)
        with self._cond:
            queue = self._queue(parts[1])
            if operation == "SetQueueAttributes":
                queue.attributes.update(_ints(_fields(body, "Queue")))
                return 204, ""
            if operation == "GetQueueAttributes":
                return 200, self._describe(queue)
            if operation == "DeleteQueue":
                del self._queues[queue.name]
                return 204, ""
            if operation == "SendMessage":
                return 201, self._send(queue, _fields(body, "Message"))
            if operation == "ReceiveMessage":
                return 200, self._receive(queue, query)
            if operation == "DeleteMessage":
                queue.messages.remove(self._held(queue, query))
                return 204, ""
            return 200, self._change_visibility(queue, query)

    def _create_queue(
        self, name: str, given: dict[str, str], extra: dict[str, str]
    ) -> tuple[int, str]:
        if not _QUEUE_NAME.match(name):
            raise MnsError(400, "InvalidQueueName", f"Invalid queue name {name!r}.")
        extra["Location"] = f"{self.endpoint}/queues/{name}"
        wanted = _ints(given)
        with self._cond:
            existing = self._queues.get(name)
            if existing is None:
                attributes = {**_QUEUE_DEFAULTS, **wanted}
                self._queues[name] = _Queue(name, attributes, int(self.clock()))
                return 201, ""
            if all(existing.attributes.get(k) == v for k, v in wanted.items()):
                return 204, ""
        raise MnsError(409, "QueueAlreadyExist", f"The queue {name} already exists.")

    def _queue(self, name: str) -> _Queue:
        if name not in self._queues:
            raise MnsError(404, "QueueNotExist", f"The queue {name} does not exist.")
        return self._queues[name]

    def _send(self, queue: _Queue, given: dict[str, str]) -> str:
        body = given.get("MessageBody")
        if not body:
            raise MnsError(400, "InvalidArgument", "MessageBody is required.")
        if len(body) > queue.attributes["MaximumMessageSize"]:
            raise MnsError(400, "InvalidArgument", "The message body is too large.")
        now = self.clock()
        delay = int(given.get("DelaySeconds", queue.attributes["DelaySeconds"]))
        message = _Message(uuid.uuid4().hex.upper(), body, int(now * 1000), now + delay,
                           int(given.get("Priority", 8)))  # fmt: skip
        queue.messages.append(message)
        self._cond.notify_all()
        md5 = hashlib.md5(body.encode()).hexdigest().upper()
        return _xml("Message", MessageId=message.message_id, MessageBodyMD5=md5)

    def _receive(self, queue: _Queue, query: dict[str, str]) -> str:
        wait = int(query.get("waitseconds", queue.attributes["PollingWaitSeconds"]))
        if not 0 <= wait <= 30:
            raise MnsError(400, "InvalidArgument", "waitseconds should be between 0 and 30.")
        deadline = time.monotonic() + wait
        while (message := self._claim(queue)) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closing or queue.name not in self._queues:
                raise MnsError(404, "MessageNotExist", "Message not exist.")
            self._cond.wait(min(0.05, remaining))
        return _xml("Message", MessageId=message.message_id, ReceiptHandle=message.receipt,
                    MessageBodyMD5=hashlib.md5(message.body.encode()).hexdigest().upper(),
                    MessageBody=message.body, EnqueueTime=message.enqueued_ms,
                    NextVisibleTime=int(message.visible_at * 1000),
                    FirstDequeueTime=message.first_dequeue_ms,
                    DequeueCount=message.dequeue_count, Priority=message.priority)  # fmt: skip

    def _claim(self, queue: _Queue) -> _Message | None:
        now = self.clock()
        for message in queue.messages:
            if message.visible_at <= now:
                message.dequeue_count += 1
                message.first_dequeue_ms = message.first_dequeue_ms or int(now * 1000)
                message.receipt = f"{next(self._receipts)}-{uuid.uuid4().hex}"
                message.visible_at = now + queue.attributes["VisibilityTimeout"]
                return message
        return None

    def _held(self, queue: _Queue, query: dict[str, str]) -> _Message:
        """The message whose current, unexpired receipt handle the request carries."""
        handle = query.get("ReceiptHandle")
        if not handle:
            raise MnsError(400, "MissingReceiptHandle", "ReceiptHandle is required.")
        now = self.clock()
        for message in queue.messages:
            if message.receipt == handle and message.visible_at > now:
                return message
        raise MnsError(400, "ReceiptHandleError", f"The receipt handle is not valid: {handle}")

    def _change_visibility(self, queue: _Queue, query: dict[str, str]) -> str:
        message = self._held(queue, query)
        if "VisibilityTimeout" not in query:
            raise MnsError(400, "MissingVisibilityTimeout", "VisibilityTimeout is required.")
        seconds = int(query["VisibilityTimeout"])
        if not 1 <= seconds <= 43200:
            raise MnsError(400, "InvalidArgument", "VisibilityTimeout should be in [1, 43200].")
        message.receipt = f"{next(self._receipts)}-{uuid.uuid4().hex}"
        message.visible_at = self.clock() + seconds
        return _xml("ChangeVisibility", ReceiptHandle=message.receipt,
                    NextVisibleTime=int(message.visible_at * 1000))  # fmt: skip

    def _describe(self, queue: _Queue) -> str:
        now = self.clock()
        hidden = [m for m in queue.messages if m.visible_at > now]
        delayed = [m for m in hidden if m.dequeue_count == 0]
        return _xml("Queue", QueueName=queue.name, CreateTime=queue.created,
                    LastModifyTime=queue.created, **queue.attributes, LoggingEnabled="False",
                    ActiveMessages=len(queue.messages) - len(hidden),
                    InactiveMessages=len(hidden) - len(delayed),
                    DelayMessages=len(delayed))  # fmt: skip

    def track(self, connection: socket.socket, open_: bool) -> None:
        with self._cond:
            (self._connections.add if open_ else self._connections.discard)(connection)


_Reply = tuple[int, dict[str, str], bytes]


class _Malformed(Exception):
    pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def _operation(method: str, parts: list[str], query: dict[str, str]) -> str:
    if parts[0] != "queues" or len(parts) not in (2, 3) or parts[2:] not in ([], ["messages"]):
        return "Unknown"
    if method == "PUT" and len(parts) == 2 and "metaoverride" in query:
        return "SetQueueAttributes"
    return _OPERATIONS.get((method, len(parts)), "Unknown")


def _timestamp(date: str) -> float:
    try:
        return parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError) as exc:
        raise MnsError(400, "InvalidDateHeader", "The Date header format is invalid.") from exc


def _fields(body: str, root: str) -> dict[str, str]:
    """Child elements of the request's XML root; MalformedXML as MNS says it."""
    if not body:
        return {}
    try:
        element = ET.fromstring(body)
    except ET.ParseError as exc:
        raise MnsError(400, "MalformedXML", "The XML you provided was not well-formed.") from exc
    if element.tag.rpartition("}")[2] != root:
        raise MnsError(400, "InvalidArgument", f"The root element must be {root}.")
    return {child.tag.rpartition("}")[2]: child.text or "" for child in element}


def _ints(given: dict[str, str]) -> dict[str, int]:
    return {k: int(v) for k, v in given.items() if k in _QUEUE_DEFAULTS}


def _xml(root: str, **fields: Any) -> str:
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NS}">{inner}</{root}>'


def _error_xml(error: MnsError) -> str:
    return _xml("Error", Code=error.code, Message=error.message,
                RequestId=uuid.uuid4().hex.upper(), HostId=HOST_ID)  # fmt: skip


def _handler_for(fake: MnsFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK expects

        def setup(self) -> None:
            super().setup()
            fake.track(self.connection, True)

        def finish(self) -> None:
            fake.track(self.connection, False)
            with suppress(OSError):
                super().finish()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, payload = fake.handle(self.command, self.path, headers, raw)
            self.send_response(status)
            for name, value in {**extra, "x-mns-request-id": uuid.uuid4().hex.upper(),
                                "x-mns-version": "2015-06-06"}.items():  # fmt: skip
                self.send_header(name, value)
            if payload:
                self.send_header("Content-Type", "text/xml;charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler
