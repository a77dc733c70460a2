"""A local DashScope: the two REST endpoints the bot uses, on the real wire format.

Why this exists: the DashScope adapters are tested with the real ``dashscope`` SDK as the
client, so only the network is faked. ``FakeDashScope`` answers ASR
(``multimodal-generation``) and LLM (``text-generation``) calls, records every request
with its arrival and answer times, and plays scripted steps: an ``Answer``, a
``Failure`` (``THROTTLED``, ``SERVER_ERROR``, ``INVALID_KEY``, ``INVALID_PARAMETER``) or
``HANG`` (never answers, to trigger timeouts). Unscripted requests get the default
answer: ``transcript(request)`` / ``reply(request)``, after ``latency`` seconds. ASR
audio must be a base64 data URI whose bytes really are what its media type says (OGG
pages begin ``OggS``; MP3 begins with an ID3 tag or a frame sync), as the service
rejects audio it cannot read with ``InvalidParameter``. ``refused_media_types`` plays a
service that does not take a format at all (e.g. ``{"audio/ogg"}``): such audio gets
DashScope's 400 ``InvalidParameter`` error body, whatever the script says.

    with FakeDashScope() as fake:
        fake.queue_asr(THROTTLED, Answer("hello", language="en"))
        ...  # call with base_address=fake.base_url, api_key=fake.api_key
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ASR_PATH = "/api/v1/services/aigc/multimodal-generation/generation"
LLM_PATH = "/api/v1/services/aigc/text-generation/generation"
HANG_LIMIT_SECONDS = 30.0


def _is_mp3(audio: bytes) -> bool:
    return audio.startswith(b"ID3") or (len(audio) >= 2 and audio[0] == 0xFF and audio[1] >= 0xE0)


# The media types of qwen3-asr-flash's documented formats this fake can recognise.
AUDIO_SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "audio/ogg": lambda audio: audio.startswith(b"OggS"),
    "audio/opus": lambda audio: audio.startswith(b"OggS"),
    "audio/mpeg": _is_mp3,
    "audio/mp3": _is_mp3,
    "audio/wav": lambda audio: audio.startswith(b"RIFF") and audio[8:12] == b"WAVE",
}


@dataclass(frozen=True)
class Answer:
    text: str | None = None  # None: the fake's default function decides
    language: str | None = "en"
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Failure:
    status: int
    code: str | None  # None: a non-JSON body, as a proxy's error page
    message: str
    retry_after: int | None = None


class Hang:
    """Read the request and never answer (until the fake closes)."""


THROTTLED = Failure(429, "Throttling.RateQuota", "Requests rate limit exceeded.")
SERVER_ERROR = Failure(500, None, "<html><body>502 Bad Gateway</body></html>")
INVALID_KEY = Failure(401, "InvalidApiKey", "Invalid API-key provided.")
INVALID_PARAMETER = Failure(400, "InvalidParameter", "The audio is invalid.")
UNSUPPORTED_FORMAT = Failure(400, "InvalidParameter", "The audio format is not supported.")
HANG = Hang()
Step = Answer | Failure | Hang


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float  # time.monotonic()
    answered_at: float | None = None  # None: never answered (hung or dropped)
    status: int | None = None

    @property
    def kind(self) -> str:
        return "asr" if self.path == ASR_PATH else "llm"

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.body.get("parameters") or {})

    def message(self, role: str) -> Any:
        messages = self.body.get("input", {}).get("messages", [])
        return next((m["content"] for m in messages if m.get("role") == role), None)

    @property
    def audio_uri(self) -> str:
        return str(next(part["audio"] for part in self.message("user") if "audio" in part))

    @property
    def media_type(self) -> str:
        """``audio/ogg`` of ``data:audio/ogg;base64,...``."""
        return self.audio_uri.partition(",")[0].removeprefix("data:").removesuffix(";base64")

    @property
    def audio(self) -> bytes:
        """The decoded audio of an ASR request's ``data:`` URI (ValueError if not one)."""
        header, _, payload = self.audio_uri.partition(",")
        if not header.startswith("data:") or not header.endswith(";base64"):
            raise ValueError(f"not a base64 data URI: {header[:40]!r}")
        return base64.b64decode(payload, validate=True)

    def check_audio(self) -> None:
        """ValueError unless the audio is of the media type its data URI names."""
        audio = self.audio
        signature = AUDIO_SIGNATURES.get(self.media_type)
        if signature is None:
            raise ValueError(f"unsupported audio type {self.media_type!r}")
        if not signature(audio):
            raise ValueError(f"the audio is not {self.media_type} (starts {audio[:8]!r})")


@dataclass
class FakeDashScope:
    api_key: str = "test-key"
    latency: float | Callable[[RecordedRequest], float] = 0.0
    transcript: Callable[[RecordedRequest], str] = lambda r: f"speech of {len(r.audio)} bytes"
    reply: Callable[[RecordedRequest], str] = lambda r: str(r.message("user"))
    requests: list[RecordedRequest] = field(default_factory=list)
    refused_media_types: set[str] = field(default_factory=set)
    _scripts: dict[str, deque[Step]] = field(
        default_factory=lambda: {"asr": deque(), "llm": deque()}
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closing: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/api/v1"

    def queue_asr(self, *steps: Step) -> None:
        self._scripts["asr"].extend(steps)

    def queue_llm(self, *steps: Step) -> None:
        self._scripts["llm"].extend(steps)

    def max_in_flight(self) -> int:
        """Most answered requests that were being handled at one same instant."""
        edges = sorted(
            edge
            for r in self.requests
            if r.answered_at is not None
            for edge in ((r.received_at, 1), (r.answered_at, -1))
        )
        depth = deepest = 0
        for _, step in edges:  # at a tie, an answer (-1) sorts before an arrival
            depth += step
            deepest = max(deepest, depth)
        return deepest

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeDashScope:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def handle(self, handler: _Handler) -> None:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        request = RecordedRequest(handler.path, headers, body, time.monotonic())
        rejection = self._check(request)
        with self._lock:
            self.requests.append(request)
            script = self._scripts[request.kind]
            step = rejection or (script.popleft() if script else Answer())
        delay = self.latency(request) if callable(self.latency) else self.latency
        if isinstance(step, Hang) or self._closing.wait(delay):
            self._closing.wait(HANG_LIMIT_SECONDS)
            handler.close_connection = True
            return
        try:
            status, payload, headers = self._render(request, step)
        except Exception as exc:  # a broken test function shows up as a 500, not a hang
            status, payload, headers = self._render(request, Failure(500, None, repr(exc)))
        # Recorded before the write: a client may act on the answer before this thread runs on.
        request.status, request.answered_at = status, time.monotonic()
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:  # the client gave up (timed out) before the answer
            request.status = request.answered_at = None
            handler.close_connection = True

    def _check(self, request: RecordedRequest) -> Failure | None:
        if request.path not in (ASR_PATH, LLM_PATH):
            return Failure(404, "NotFound", f"no such path {request.path}")
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return INVALID_KEY
        if not request.body.get("model") or not request.message("user"):
            return Failure(400, "InvalidParameter", "model and a user message are required")
        if request.kind == "asr":
            try:
                request.check_audio()
            except (ValueError, StopIteration, TypeError, binascii.Error) as exc:
                return Failure(400, "InvalidParameter", f"bad audio: {exc}")
            if request.media_type in self.refused_media_types:
                return UNSUPPORTED_FORMAT
        return None

    def _render(
        self, request: RecordedRequest, step: Answer | Failure
    ) -> tuple[int, bytes, dict[str, str]]:
        """Status, body and headers of the answer, as DashScope would send them."""
        if isinstance(step, Failure):
            headers = {"Content-Type": "application/json"}
            if step.retry_after is not None:
                headers["Retry-After"] = str(step.retry_after)
            error = {"request_id": str(uuid.uuid4()), "code": step.code, "message": step.message}
            payload = json.dumps(error).encode()
            if step.code is None:
                headers["Content-Type"], payload = "text/html", step.message.encode()
            return step.status, payload, {**headers, "Content-Length": str(len(payload))}
        if request.kind == "asr":
            text = self.transcript(request) if step.text is None else step.text
            message: dict[str, Any] = {"role": "assistant", "content": [{"text": text}]}
            message["annotations"] = [{"type": "audio_info", "language": step.language}]
            usage: dict[str, Any] = {"seconds": 1}
        else:
            text = self.reply(request) if step.text is None else step.text
            message = {"role": "assistant", "content": text}
            usage = {"input_tokens": 1, "output_tokens": 1}
        choice = {"finish_reason": step.finish_reason, "message": message}
        body = {"request_id": str(uuid.uuid4()), "output": {"choices": [choice]}, "usage": usage}
        payload = json.dumps(body).encode()
        return (
            200,
            payload,
            {"Content-Type": "application/json", "Content-Length": str(len(payload))},
        )


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's aiohttp session expects

    def do_POST(self) -> None:
        self.server.fake.handle(self)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read ``FakeDashScope.requests`` instead."""
