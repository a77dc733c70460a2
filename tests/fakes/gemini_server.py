"""A local fake of the Gemini ``generateContent`` REST endpoint.

Why this exists: the Gemini adapter is tested with the real google-genai SDK as the client,
so its requests, timeouts, retries and error mapping are the production ones. The fake
speaks the wire protocol (path, ``x-goog-api-key``, JSON bodies and error envelopes),
records every request, and plays scripted failures: error statuses, delays and hangs.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                 503: "UNAVAILABLE"}  # fmt: skip


@dataclass(frozen=True)
class Step:
    """How to answer one request: an error ``status``, a pause first, or a normal reply."""

    status: int = 200
    delay_seconds: float = 0.0
    hang: bool = False
    finish_reason: str = "STOP"
    text: str | None = None


@dataclass
class RecordedRequest:
    """One request as it arrived; ``finished`` is set when its answer is sent."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    started: float
    finished: float | None = None

    @property
    def user_text(self) -> str:
        return _user_text(self.body)


@dataclass
class GeminiFake:
    """Context manager: ``with GeminiFake() as fake: ... fake.base_url ...``."""

    api_key: str = "test-gemini-key"
    api_version: str = "v1beta"
    reply: Callable[[str], str] = lambda text: text
    delay_seconds: float = 0.0
    requests: list[RecordedRequest] = field(default_factory=list)
    max_in_flight: int = 0
    _script: deque[Step] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _in_flight: int = 0

    def then(self, *steps: Step) -> GeminiFake:
        """Answer the next requests with ``steps``, in order; then the default reply."""
        self._script.extend(steps)
        return self

    def fail(self, status: int, times: int = 1) -> GeminiFake:
        return self.then(*[Step(status=status)] * times)

    def hang(self, times: int = 1) -> GeminiFake:
        """Never answer (until the fake stops): the client's timeout must fire."""
        return self.then(*[Step(hang=True)] * times)

    def __enter__(self) -> GeminiFake:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(
        self, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any] | None:
        """Status and JSON for one request; ``None`` to drop the connection unanswered."""
        record = RecordedRequest(path, headers, body, started=time.monotonic())
        with self._lock:
            self.requests.append(record)
            step = self._script.popleft() if self._script else Step()
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if step.hang:
                self._release.wait()
                return None
            self._release.wait(step.delay_seconds or self.delay_seconds)
            return self._respond(step, path, headers, body)
        finally:
            record.finished = time.monotonic()
            with self._lock:
                self._in_flight -= 1

    def _respond(
        self, step: Step, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, Any]:
        prefix = f"/{self.api_version}/models/"
        if not (path.startswith(prefix) and path.endswith(":generateContent")):
            return _error(404, f"no such method: {path}")
        if headers.get("x-goog-api-key") != self.api_key:
            return _error(401, "API key not valid. Please pass a valid API key.")
        if step.status != 200:
            return _error(step.status, f"scripted failure {step.status}")
        text = step.text if step.text is not None else self.reply(_user_text(body))
        candidate = {"content": {"parts": [{"text": text}], "role": "model"},
                     "finishReason": step.finish_reason, "index": 0}  # fmt: skip
        return 200, {"candidates": [candidate], "usageMetadata": {"totalTokenCount": 1}}


def _user_text(body: dict[str, Any]) -> str:
    return "".join(part.get("text", "") for part in body["contents"][-1]["parts"])


def _error(status: int, message: str) -> tuple[int, Any]:
    name = _STATUS_NAMES.get(status, "UNKNOWN")
    return status, {"error": {"code": status, "message": message, "status": name}}


def _handler_for(fake: GeminiFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {key.lower(): value for key, value in self.headers.items()}
            result = fake.answer(self.path, headers, json.loads(raw or b"{}"))
            if result is None:
                self.close_connection = True
                return
            status, payload = result
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up waiting

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: pytest shows the test's own output."""

    return Handler
