"""A protocol fake of OSS's object API, enough for ``infrastructure/oss``: PutObject,
GetObject, HeadObject, AppendObject (with OSS's position check), DeleteObject and
ListObjects (v1), path-style, on a loopback port. Requests must carry an ``OSS``
Authorization naming the fake's key id (and the STS token header when one is set), as
the real service demands; errors are OSS's XML with its codes. ``failures`` makes the
next requests answer 503, to exercise retries."""

from __future__ import annotations

import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape


class OssFake:
    def __init__(self, bucket: str = "voicescribe-uploads") -> None:
        self.bucket = bucket
        self.access_key_id = "LTAIfakeOssKey"
        self.access_key_secret = "fake-oss-secret"
        self.objects: dict[str, bytearray] = {}
        self.appendable: set[str] = set()
        self.calls: list[tuple[str, str]] = []
        self.failures = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                fake._serve(self)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle  # noqa: N815

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> OssFake:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        query = parse_qs(url.query, keep_blank_values=True)
        parts = url.path.lstrip("/").split("/", 1)
        bucket, key = parts[0], unquote(parts[1]) if len(parts) > 1 else ""
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        self.calls.append((request.command, key))
        if not request.headers.get("Authorization", "").startswith(f"OSS {self.access_key_id}:"):
            return _error(request, 403, "AccessDenied", "no valid signature")
        if bucket != self.bucket:
            return _error(request, 404, "NoSuchBucket", bucket)
        with self._lock:
            if self.failures > 0:
                self.failures -= 1
                return _error(request, 503, "ServiceUnavailable", "try again")
            if request.command == "GET" and not key:
                return self._list(request, query.get("prefix", [""])[0])
            if request.command == "PUT":
                self.objects[key] = bytearray(body)
                self.appendable.discard(key)
                return _reply(request, 200)
            if request.command == "POST" and "append" in query:
                position = int(query.get("position", ["0"])[0])
                current = self.objects.get(key)
                if current is not None and key not in self.appendable:
                    return _error(request, 409, "ObjectNotAppendable", key)
                if position != (len(current) if current is not None else 0):
                    return _error(request, 409, "PositionNotEqualToLength", key)
                stored = self.objects.setdefault(key, bytearray())
                self.appendable.add(key)
                stored.extend(body)
                return _reply(request, 200, {"x-oss-next-append-position": str(len(stored))})
            data = self.objects.get(key)
            if request.command == "DELETE":
                self.objects.pop(key, None)
                self.appendable.discard(key)
                return _reply(request, 204)
            if data is None:
                return _error(request, 404, "NoSuchKey", key)
            if request.command == "HEAD":
                return _reply(request, 200, {"Content-Length": str(len(data))}, head=True)
            return _reply(request, 200, body=bytes(data))

    def _list(self, request: BaseHTTPRequestHandler, prefix: str) -> None:
        contents = "".join(
            f"<Contents><Key>{escape(key)}</Key><LastModified>2026-12-03T00:00:00.000Z"
            f'</LastModified><ETag>"0"</ETag><Type>Normal</Type><Size>{len(data)}</Size>'
            f"<StorageClass>Standard</StorageClass></Contents>"
            for key, data in sorted(self.objects.items())
            if key.startswith(prefix)
        )
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>'
            f"<Name>{self.bucket}</Name><Prefix>{escape(prefix)}</Prefix><Marker></Marker>"
            f"<MaxKeys>1000</MaxKeys><Delimiter></Delimiter><IsTruncated>false</IsTruncated>"
            f"{contents}</ListBucketResult>"
        )
        _reply(request, 200, {"Content-Type": "application/xml"}, body=xml.encode())


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client closing its kept-alive connection is no error of the fake's."""


def _reply(
    request: BaseHTTPRequestHandler,
    status: int,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    *,
    head: bool = False,
) -> None:
    request.send_response(status)
    request.send_header("x-oss-request-id", f"fake-{time.monotonic_ns()}")
    request.send_header("Date", formatdate(usegmt=True))
    headers = dict(headers or {})
    if not head:
        headers["Content-Length"] = str(len(body))
    for name, value in headers.items():
        request.send_header(name, value)
    request.end_headers()
    if body and not head:
        request.wfile.write(body)


def _error(request: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>{escape(message)}</Message><RequestId>fake</RequestId></Error>"
    )
    _reply(request, status, {"Content-Type": "application/xml"}, body=xml.encode())
