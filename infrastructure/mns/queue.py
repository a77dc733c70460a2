"""``JobQueue`` over Alibaba Cloud MNS, through the blocking aliyun-mns-sdk.

Why: with MNS as the queue the webhook and the worker run as separate functions, and
MNS gives what the port promises: at-least-once delivery, a visibility timeout set on
the queue (``create_queue`` writes it), receipt handles that change on every delivery
and extension, and a dequeue count for spotting poison messages. Every SDK call runs on
this adapter's own threads (one SDK client per thread, see ``clients.py``; a long poll
must not starve the event loop's default executor), has a socket timeout, is retried
with backoff while its error is transient, and leaves only as ``QueueError``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import attrs
from mns.mns_exception import MNSExceptionBase
from mns.mns_request import GetQueueAttributesRequest, GetQueueAttributesResponse
from mns.queue import Message, QueueMeta

from application.errors import QueueError
from application.ports import QueueBacklog, QueueMessage
from infrastructure.cloud_credentials import AccessKey, CloudCredentials
from infrastructure.mns.body import UndecodableBody, decode_job, encode_job
from infrastructure.mns.clients import ThreadLocalQueues
from infrastructure.mns.errors import EMPTY_CODES, receipt_of, server_code, translated
from infrastructure.retrying import RetryPolicy, with_retries

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_WAIT_SECONDS = 30  # the longest long poll MNS accepts
MAX_VISIBILITY_SECONDS = 43200
MAX_DELAY_SECONDS = 604800  # the longest DelaySeconds MNS accepts


@attrs.frozen
class QueueVisibility:
    """The queue's visibility timeout after ``create_queue``, and what it was if that
    raised it."""

    seconds: int
    corrected_from: int | None


class MnsJobQueue:
    def __init__(
        self,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        queue_name: str = "voicescribe-jobs",
        visibility_timeout_seconds: float = 120,
        *,
        request_timeout_seconds: float = 10.0,
        retry: RetryPolicy | None = None,
        max_receivers: int = 8,
        max_senders: int = 4,
        security_token: str = "",
        credentials: CloudCredentials | None = None,
    ) -> None:
        """``max_receivers`` long polls may be in flight at once, and beside them
        ``max_senders`` other calls: a receiver waiting on an empty queue never holds up
        an enqueue or an acknowledgement. ``credentials``, when given, is what every
        request is signed with (it may rotate); the two keys and ``security_token`` are
        then not used."""
        self._name = queue_name
        self._visibility = _whole_seconds(visibility_timeout_seconds, 1, MAX_VISIBILITY_SECONDS)
        self._retry = retry or RetryPolicy(attempts=4, base_delay_seconds=0.5, budget_seconds=30)
        if credentials is None:
            credentials = CloudCredentials(
                AccessKey(access_key_id, access_key_secret, security_token)
            )
        self._queues = ThreadLocalQueues(endpoint, credentials, queue_name, request_timeout_seconds)
        self._polls = ThreadPoolExecutor(max_receivers, thread_name_prefix="mns-poll")
        self._calls = ThreadPoolExecutor(max_senders, thread_name_prefix="mns-call")
        self._closed = False

    async def create_queue(self) -> QueueVisibility:
        """Create the queue with our visibility timeout (for ``voicescribe setup``). An
        existing queue is fine; its visibility timeout is raised to ours when shorter (a
        queue made by hand, or changed in the console, would otherwise hand a running
        job's message to another worker), and left when longer."""

        def create() -> None:
            queue, meta = self._queues.for_call(), QueueMeta(vis_timeout=self._visibility)
            try:
                queue.create(meta)
            except MNSExceptionBase as exc:
                if server_code(exc) != "QueueAlreadyExist":
                    raise

        await self._call("CreateQueue", create)
        found = await self.visibility_timeout()
        if found >= self._visibility:
            return QueueVisibility(found, corrected_from=None)

        def correct() -> None:
            self._queues.for_call().set_attributes(QueueMeta(vis_timeout=self._visibility))

        await self._call("SetQueueAttributes", correct)
        return QueueVisibility(await self.visibility_timeout(), corrected_from=found)

    async def visibility_timeout(self) -> int:
        """The queue's own visibility timeout, in seconds (GetQueueAttributes)."""

        def read() -> int:
            return int(self._queues.for_call().get_attributes().visibility_timeout)

        return await self._call("GetQueueAttributes", read)

    @property
    def configured_visibility_seconds(self) -> int:
        """The visibility timeout this adapter was configured with (whole seconds)."""
        return self._visibility

    async def enqueue(self, job_id: str, delay_seconds: float = 0.0) -> None:
        """``delay_seconds`` becomes MNS's ``DelaySeconds``: whole seconds, at most a week."""
        body = encode_job(job_id)
        delay = _whole_seconds(delay_seconds, 0, MAX_DELAY_SECONDS)

        def send() -> None:
            self._queues.for_call().send_message(Message(body, delay_seconds=delay))

        await self._call("SendMessage", send)

    async def receive(self, wait_seconds: float) -> QueueMessage | None:
        """Long-poll up to ``wait_seconds`` (whole seconds, at most 30: the MNS limit)."""
        wait = _whole_seconds(wait_seconds, 0, MAX_WAIT_SECONDS)
        return await self._call("ReceiveMessage", lambda: self._receive(wait), self._polls)

    async def extend(self, message: QueueMessage, seconds: float) -> QueueMessage:
        hidden = _whole_seconds(seconds, 1, MAX_VISIBILITY_SECONDS)

        def change() -> QueueMessage:
            with receipt_of(message, "ChangeMessageVisibility"):
                changed = self._queues.for_call().change_message_visibility(message.receipt, hidden)
            return QueueMessage(message.job_id, changed.receipt_handle, message.delivery_count)

        return await self._call("ChangeMessageVisibility", change)

    async def acknowledge(self, message: QueueMessage) -> None:
        def delete() -> None:
            with receipt_of(message, "DeleteMessage"):
                self._queues.for_call().delete_message(message.receipt)

        await self._call("DeleteMessage", delete)

    async def position(self, job_id: str) -> int | None:
        """MNS does not say where a message stands in the queue."""
        return None

    async def backlog(self) -> QueueBacklog:
        """GetQueueAttributes' message counts (receivable, in progress, delayed); MNS
        tells no message's age. Read from the SDK's response, not its ``QueueMeta``, whose
        count properties warn on every access (MNS marks them as going away: a queue
        that stops reporting them has an unknown depth)."""

        def describe() -> QueueBacklog:
            queue = self._queues.for_call()
            response = GetQueueAttributesResponse()
            queue.mns_client.get_queue_attributes(
                GetQueueAttributesRequest(queue.queue_name), response
            )
            counts = (
                response.active_messages,
                response.inactive_messages,
                response.delay_messages,
            )
            known = all(isinstance(n, int) and n >= 0 for n in counts)
            return QueueBacklog(sum(counts) if known else None, None)

        return await self._call("GetQueueAttributes", describe)

    async def close(self) -> None:
        """Wait for calls in flight (a long poll: up to its wait), then close connections."""
        self._closed = True
        for executor in (self._calls, self._polls):
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
        self._queues.close()

    def _receive(self, wait: int) -> QueueMessage | None:
        try:
            received = self._queues.for_poll(wait).receive_message(wait)
        except MNSExceptionBase as exc:
            if server_code(exc) in EMPTY_CODES:
                return None
            raise
        try:
            job_id = decode_job(received.message_body)
        except UndecodableBody as exc:
            log.error("dropping MNS message %s from %s: %s", received.message_id, self._name, exc)
            self._queues.for_call().delete_message(received.receipt_handle)
            return None
        return QueueMessage(job_id, received.receipt_handle, received.dequeue_count)

    async def _call(
        self, what: str, work: Callable[[], T], executor: ThreadPoolExecutor | None = None
    ) -> T:
        if self._closed:
            raise QueueError(f"MNS {what} failed: the queue client is closed", transient=False)
        loop = asyncio.get_running_loop()

        async def attempt() -> T:
            return await loop.run_in_executor(executor or self._calls, translated, what, work)

        return await with_retries(attempt, self._retry, what=f"MNS {what} on {self._name}")


def _whole_seconds(seconds: float, low: int, high: int) -> int:
    return min(max(math.ceil(seconds), low), high)
