"""``FakeTablestore``: a local Tablestore endpoint speaking the real wire protocol.

Why this exists: the Tablestore repositories are tested with the real ``tablestore`` SDK as
the client, unpatched, so only the service is faked. Each request is ``POST /<Api>`` with a
protobuf body; the fake checks its signature and answers with the signed headers the SDK
validates (auth.py). Errors are a serialized ``Error`` with the service's codes and statuses.

It records every request and plays scripted faults: an error answer (``fail``) or a delay
before handling (``delay``; the request still runs afterwards, as a real slow write lands
after the client gave up).

    with FakeTablestore() as fake:
        client = OTSClient(fake.endpoint, fake.access_key_id, fake.access_key_secret,
                           fake.instance, retry_policy=NoRetryPolicy())
        fake.fail("OTSServerBusy", status=503, api="PutRow")  # the next PutRow only

Besides its static keys it accepts temporary STS keys the test grants (``grant_sts``), as
the service accepts a role's: such a request must carry its token in ``x-ots-ststoken``,
and a revoked (expired) key is refused with ``OTSAuthFailed``.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import tablestore.protobuf.table_store_pb2 as pb

from tests.fakes.tablestore.api import dispatch
from tests.fakes.tablestore.auth import Credentials
from tests.fakes.tablestore.conditions import OtsError
from tests.fakes.tablestore.tables import Store


@dataclass
class RecordedRequest:
    api: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    signature_valid: bool
    status: int | None = None  # None: not answered yet


@dataclass
class _Fault:
    api: str | None  # None: any API
    remaining: int | None  # None: forever
    error: OtsError | None = None
    delay_seconds: float = 0.0
    skip: int = 0  # matching calls to let through before this fault starts


class FakeTablestore:
    def __init__(
        self,
        access_key_id: str = "fake-access-key",
        access_key_secret: str = "fake-access-secret",
        instance: str = "voicescribe-test",
    ) -> None:
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.instance = instance
        self.credentials = Credentials(access_key_id, access_key_secret, instance)
        self.store = Store()
        self.requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._sts: dict[str, tuple[Credentials, str]] = {}  # key id: keys, token

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeTablestore is not running; use it as a context manager")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeTablestore:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def fail(
        self,
        code: str = "OTSServerBusy",
        *,
        status: int = 503,
        message: str = "Server is busy.",
        api: str | None = None,
        times: int | None = 1,
        after: int = 0,
    ) -> None:
        """Answer ``times`` calls of ``api`` (any API if None; forever if ``times`` is
        None) with this error instead of running them, once ``after`` calls got through."""
        error = OtsError(status, code, message)
        with self._lock:
            self._faults.append(_Fault(api, times, error=error, skip=after))

    def delay(self, seconds: float, *, api: str | None = None, times: int | None = 1) -> None:
        """Hold the next ``times`` calls of ``api`` for ``seconds``, then run them."""
        with self._lock:
            self._faults.append(_Fault(api, times, delay_seconds=seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def grant_sts(self, key_id: str, secret: str, token: str) -> None:
        """Accept requests signed with this temporary key and carrying its token."""
        with self._lock:
            self._sts[key_id] = (Credentials(key_id, secret, self.instance), token)

    def revoke_sts(self, key_id: str) -> None:
        """The temporary key expired: requests signed with it are refused from now on."""
        with self._lock:
            self._sts.pop(key_id, None)

    def credentials_for(self, headers: dict[str, str]) -> Credentials | None:
        """The keys a request claims to be signed with; None for a key nobody issued."""
        key_id = headers.get("x-ots-accesskeyid", "")
        with self._lock:
            granted = self._sts.get(key_id)
        if granted is not None:
            return granted[0]
        return self.credentials if key_id == self.access_key_id else None

    def calls(self, api: str) -> list[RecordedRequest]:
        with self._lock:
            return [request for request in self.requests if request.api == api]

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        """One request: ``(status, body)``; the HTTP layer adds the signed headers."""
        api = path.strip("/")
        credentials = self.credentials_for(headers)
        signed = credentials is not None and credentials.signature_ok(path, headers)
        record = RecordedRequest(api, headers, body, signed)
        with self._lock:
            self.requests.append(record)
            fault = self._take_fault(api)
            granted = self._sts.get(headers.get("x-ots-accesskeyid", ""))
        try:
            if credentials is None:
                raise OtsError(403, "OTSAuthFailed", "The AccessKeyId is invalid or expired.")
            credentials.verify(path, headers, body)
            if granted is not None and headers.get("x-ots-ststoken") != granted[1]:
                raise OtsError(403, "OTSAuthFailed", "The security token is invalid.")
            if fault is not None and fault.delay_seconds:
                time.sleep(fault.delay_seconds)
            if fault is not None and fault.error is not None:
                raise fault.error
            record.status, answer = 200, dispatch(self.store, api, body)
        except OtsError as error:
            record.status = error.status
            answer = pb.Error(code=error.code, message=error.message).SerializeToString()
        return record.status, answer

    def _take_fault(self, api: str) -> _Fault | None:
        for fault in self._faults:
            if fault.api in (None, api) and fault.remaining != 0:
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                return fault
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeTablestore


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as urllib3's pool expects
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes: without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, answer = self.server.fake.handle(self.path, headers, body)
        try:
            self.send_response(status)
            # An unknown key cannot be signed for: the answer then carries no authorization.
            signer = self.server.fake.credentials_for(headers) or self.server.fake.credentials
            answer_headers = signer.response_headers(self.path, answer)
            if self.server.fake.credentials_for(headers) is None:
                answer_headers.pop("authorization")
            for name, value in answer_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout test): fine

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read ``FakeTablestore.requests`` instead."""
