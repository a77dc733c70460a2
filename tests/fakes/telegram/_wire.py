"""The HTTP side of the Telegram fake: URL routing, request decoding, reply envelopes."""

from __future__ import annotations

import json
import re
import select
import socket
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.fakes.telegram._records import UploadedFile

ClientGone = Callable[[], bool]
Reply = tuple[int, bytes, str] | None  # status, body, content type; None: drop the socket

# Parameters that are strings on the wire even when they look like JSON ("123", "[x]").
STRING_PARAMS = frozenset(
    [
        "text",
        "caption",
        "parse_mode",
        "url",
        "secret_token",
        "title",
        "description",
        "payload",
        "currency",
        "provider_token",
        "callback_query_id",
        "pre_checkout_query_id",
        "error_message",
        "telegram_payment_charge_id",
        "file_id",
        "action",
        "inline_message_id",
        "start_parameter",
        "language_code",
        "ip_address",
        "document",
        "business_connection_id",
        "message_effect_id",
        "certificate",
        "emoji",
        "thumbnail",
    ]
)
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_FORM_ESCAPE = re.compile(r"%(22|[01][0-9A-F]|7F)")


class ApiError(Exception):
    """A Bot API error reply: ``{"ok": false, "error_code", "description", "parameters"}``."""

    def __init__(
        self, error_code: int, description: str | None = None, retry_after: int | None = None
    ) -> None:
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = _DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


class Backend(Protocol):
    """What the HTTP handler needs from the fake."""

    def handle_api(
        self,
        token: str,
        method: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        client_gone: ClientGone,
    ) -> Reply: ...

    def handle_download(self, token: str, file_path: str) -> Reply: ...


def json_reply(status: int, payload: Any) -> Reply:
    return status, json.dumps(payload, ensure_ascii=False).encode(), "application/json"


def decode_params(raw: dict[str, str]) -> dict[str, Any]:
    """Form values are strings; PTB JSON-encodes every non-string value."""
    params: dict[str, Any] = {}
    for name, value in raw.items():
        if name in STRING_PARAMS:
            params[name] = value
            continue
        try:
            params[name] = json.loads(value)
        except ValueError:
            params[name] = value
    return params


def parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Parameters and uploaded files of a form, multipart or JSON request body."""
    media_type = content_type.split(";", maxsplit=1)[0].strip().lower()
    if media_type == "application/json":
        payload = json.loads(body or b"{}")
        return (payload if isinstance(payload, dict) else {}), {}
    if media_type == "multipart/form-data":
        match = re.search(r'boundary="?([^";]+)"?', content_type)
        if match is None:
            return {}, {}
        raw, files = _parse_multipart(body, match.group(1).encode())
        return decode_params(raw), files
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return decode_params(dict(pairs)), {}


def _parse_multipart(
    body: bytes, boundary: bytes
) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    raw: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for chunk in body.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = _form_param(disposition, "name")
        if name is None:
            continue
        filename = _form_param(disposition, "filename")
        kind = headers.get("content-type", "text/plain").split(";")[0].strip().lower()
        if filename is None and kind == "text/plain":  # RFC 7578: a field, not a file
            raw[name] = content.decode("utf-8", "replace")
        else:
            files[name] = UploadedFile(name, filename, headers.get("content-type"), content)
    return raw, files


def _form_param(disposition: str, key: str) -> str | None:
    match = re.search(rf'(?:^|;)\s*{key}="((?:[^"\\]|\\.)*)"', disposition)
    if match is None:
        return None
    value = match.group(1).replace("\\\\", "\\")
    return _FORM_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)


def _client_gone(connection: socket.socket) -> ClientGone:
    """Whether the client closed its socket (a cancelled long poll does that)."""

    def gone() -> bool:
        try:
            readable, _, _ = select.select([connection], [], [], 0)
            if not readable:
                return False
            return connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    return gone


def handler_for(backend: Backend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall

        def do_GET(self) -> None:
            self._serve(b"")

        def do_POST(self) -> None:
            self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def _serve(self, body: bytes) -> None:
            url = urlsplit(self.path)
            api = re.fullmatch(r"/bot([^/]*)/([^/]*)", url.path)
            download = re.fullmatch(r"/file/bot([^/]*)/(.+)", url.path)
            if api is not None:
                params = decode_params(dict(parse_qsl(url.query, keep_blank_values=True)))
                try:
                    body_params, files = parse_body(self.headers.get("Content-Type", ""), body)
                except ValueError:
                    self._send(json_reply(400, ApiError(400).envelope()))
                    return
                params.update(body_params)
                token, method = unquote(api.group(1)), unquote(api.group(2))
                self._send(
                    backend.handle_api(token, method, params, files, _client_gone(self.request))
                )
            elif download is not None:
                token, path = unquote(download.group(1)), unquote(download.group(2))
                self._send(backend.handle_download(token, path))
            else:
                self._send(json_reply(404, ApiError(404).envelope()))

        def _send(self, reply: Reply) -> None:
            if reply is None:
                self.close_connection = True
                return
            status, data, content_type = reply
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up waiting

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: pytest shows the test's own output."""

    return Handler
