"""One MNS SDK client per thread, each with a socket timeout: the SDK is not thread-safe.

Why: an ``mns.account.Account`` owns one blocking keep-alive ``http.client`` connection;
two threads sharing it interleave requests on one socket and hang. Every thread that runs
SDK calls builds its own clients on first use (``threading.local``), and no SDK object is
handed to another thread. Each thread keeps two: one for short calls (socket timeout
``request_timeout``) and one for long polls, whose timeout is the wait plus that margin,
so a hung server is noticed and a long poll is never cut short.

Every client signs each request with the current key of one ``CloudCredentials``: static
keys, or the function role's rotated STS key on Function Compute (its token travels as
the ``security-token`` header), so a client opened before a rotation signs with the new key.
"""

from __future__ import annotations

import threading

from mns.account import Account
from mns.auth import Credentials
from mns.mns_client import MNSClient
from mns.queue import Queue

from infrastructure.cloud_credentials import CloudCredentials


class ThreadLocalQueues:
    def __init__(
        self,
        endpoint: str,
        credentials: CloudCredentials,
        queue_name: str,
        request_timeout_seconds: float,
    ) -> None:
        self._endpoint = endpoint
        self._signing_keys = _SigningKeys(credentials)
        self._queue_name = queue_name
        self._timeout = request_timeout_seconds
        self._local = threading.local()
        self._lock = threading.Lock()
        self._clients: list[MNSClient] = []

    def for_call(self) -> Queue:
        """This thread's queue object for send, delete, change visibility and setup."""
        queue: Queue | None = getattr(self._local, "call", None)
        if queue is None:
            queue = self._local.call = self._open(self._timeout)
        return queue

    def for_poll(self, wait_seconds: int) -> Queue:
        """This thread's queue object for a receive that may wait ``wait_seconds``."""
        timeout = wait_seconds + self._timeout
        queue: Queue | None = getattr(self._local, "poll", None)
        if queue is None:
            queue = self._local.poll = self._open(timeout)
        elif self._local.poll_timeout != timeout:
            _set_socket_timeout(queue.mns_client, timeout)
        self._local.poll_timeout = timeout
        return queue

    def close(self) -> None:
        """Close every connection; only once no thread uses its clients any more."""
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close_connection()

    def _open(self, timeout: float) -> Queue:
        account = Account(self._endpoint, credentials_provider=self._signing_keys)
        client = account.get_client()
        _set_socket_timeout(client, timeout)
        with self._lock:
            self._clients.append(client)
        queue = account.get_queue(self._queue_name)
        queue.set_encoding(False)  # the body codec (body.py) does the base64 itself
        return queue


class _SigningKeys:
    """What the SDK signs each request with: the current key, read per request (the SDK
    calls ``get_credentials`` before signing each one; it needs no base class)."""

    def __init__(self, credentials: CloudCredentials) -> None:
        self._credentials = credentials

    def get_credentials(self) -> Credentials:
        key = self._credentials.current()
        return Credentials(key.key_id, key.secret, key.security_token)


def _set_socket_timeout(client: MNSClient, seconds: float) -> None:
    client.set_connection_timeout(seconds)  # HTTP: a new connection with this timeout
    if client.http.is_https:  # the SDK keeps no timeout for HTTPS: set http.client's own
        client.close_connection()
        client.http.conn.timeout = seconds
