"""One Tablestore client shared by the repositories: threads, timeouts, bounded retries.

Why this exists: the SDK's ``OTSClient`` blocks, retries on its own (up to 20 times by
default) and logs every failed request at ERROR, including the condition failures that are
normal under optimistic concurrency. Here it is built with ``NoRetryPolicy``, a socket
timeout and a quiet logger; its calls run on a small thread pool owned by the connection
(the client is thread-safe: per-request state only, over urllib3's thread-safe pool), and
``call`` retries them with ``with_retries``: reads on any transient error, writes only when
the service certainly did not run them (see errors.py). Close it once at shutdown.

Requests are signed with static keys, or with a ``CloudCredentials`` read on every request:
the function role's STS key on Function Compute (its token travels as ``x-ots-ststoken``),
rotated while the connection lives (cloud_credentials.py).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

import attrs
from tablestore import NoRetryPolicy, OTSClient, OTSClientError
from tablestore.credentials import Credentials

from application.errors import StorageError
from infrastructure.cloud_credentials import AccessKey, CloudCredentials
from infrastructure.retrying import RetryPolicy, with_retries
from infrastructure.tablestore.errors import TablestoreError, translate

T = TypeVar("T")
DEFAULT_RETRY = RetryPolicy(
    attempts=4, base_delay_seconds=0.2, max_delay_seconds=2.0, budget_seconds=15.0
)
_PREFIX = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)?")
_SDK_LOGGER = "voicescribe.tablestore.sdk"


@attrs.frozen
class TableNames:
    """The tables, each named ``<prefix><role>`` (layout in schema.py)."""

    jobs: str
    job_keys: str
    job_files: str
    accounts: str
    settings: str
    processed_updates: str
    payments: str
    chats: str
    action_results: str
    recognizer_throughput: str

    @classmethod
    def with_prefix(cls, prefix: str) -> TableNames:
        roles = [field.name for field in attrs.fields(cls)]
        return cls(**{role: f"{prefix}{role}" for role in roles})


class _DoNotRetry(Exception):
    """Carries an ambiguous write failure past ``with_retries`` untouched."""

    def __init__(self, error: TablestoreError) -> None:
        super().__init__(str(error))
        self.error = error


class _SigningKeys:
    """What the SDK signs each request with: the current key, read per request (the SDK
    calls ``get_credentials`` before signing each one; it needs no base class)."""

    def __init__(self, credentials: CloudCredentials) -> None:
        self._credentials = credentials

    def get_credentials(self) -> Credentials:
        key = self._credentials.current()
        return Credentials(key.key_id, key.secret, key.security_token or None)


class TablestoreConnection:
    def __init__(
        self,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        instance: str,
        *,
        table_prefix: str = "voicescribe_",
        timeout_seconds: float = 10.0,
        retry_policy: RetryPolicy = DEFAULT_RETRY,
        max_concurrency: int = 8,
        security_token: str = "",
        credentials: CloudCredentials | None = None,
    ) -> None:
        """Nothing is sent here. ``credentials``, when given, is what every request is
        signed with (it may rotate) and the two keys and ``security_token`` are not used.
        Raises ``StorageError`` (permanent) for a bad endpoint, empty credentials or a
        prefix that cannot start a table name."""
        if not _PREFIX.fullmatch(table_prefix):
            raise StorageError(f"bad Tablestore table prefix {table_prefix!r}", transient=False)
        if credentials is None:
            credentials = CloudCredentials(
                AccessKey(access_key_id, access_key_secret, security_token)
            )
        if not credentials.current().complete:
            raise StorageError("tablestore: empty access key id or secret", transient=False)
        sdk_log = logging.getLogger(_SDK_LOGGER)
        sdk_log.setLevel(logging.CRITICAL)  # our errors carry code, message and request id
        try:
            self._client = OTSClient(
                endpoint,
                None,
                None,
                instance,
                credentials_provider=_SigningKeys(credentials),
                retry_policy=NoRetryPolicy(),
                socket_timeout=timeout_seconds,
                max_connection=max_concurrency,
                logger_name=_SDK_LOGGER,
            )
        except OTSClientError as error:
            raise StorageError(f"tablestore: {error}", transient=False) from error
        self.tables = TableNames.with_prefix(table_prefix)
        self._retry = retry_policy
        self._executor = ThreadPoolExecutor(max_concurrency, thread_name_prefix="tablestore")
        self._closed = False

    async def call(self, what: str, operation: Callable[[Any], T], *, idempotent: bool) -> T:
        """Run ``operation(client)`` on the pool, retrying transient failures; raises
        ``TablestoreError`` (``ConditionFailed`` when a row condition did not hold).

        ``idempotent``: running it twice is harmless (reads), so ambiguous failures are
        retried too; for writes only failures the service did not run are retried.
        """
        if self._closed:
            raise StorageError("the Tablestore connection is closed", transient=False)
        loop = asyncio.get_running_loop()

        async def attempt() -> T:
            try:
                return await loop.run_in_executor(self._executor, self._run, what, operation)
            except TablestoreError as error:
                if error.transient and not (idempotent or error.retry_safe):
                    raise _DoNotRetry(error) from error
                raise

        try:
            return await with_retries(attempt, self._retry, what=f"tablestore {what}")
        except _DoNotRetry as stop:
            raise stop.error from stop.error.__cause__

    async def close(self) -> None:
        """Wait for calls in flight, stop the threads and close the HTTP connections."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._executor.shutdown, wait=True)
        self._client.connection.pool.clear()

    async def __aenter__(self) -> TablestoreConnection:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _run(self, what: str, operation: Callable[[Any], T]) -> T:
        """On a pool thread: the SDK call, with every failure translated."""
        try:
            return operation(self._client)
        except Exception as error:
            raise translate(error, what) from error
