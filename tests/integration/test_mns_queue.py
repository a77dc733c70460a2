"""The MNS job queue with the real aliyun-mns-sdk against a local fake of the MNS wire.

Covers what the reference bot got wrong about its queue: the call shapes on the wire,
receipts and redelivery, timeouts, bounded retries of transient errors, error mapping
(nothing swallowed) and concurrent receivers, each with its own SDK client.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from mns.account import Account
from mns.queue import Message

from application.errors import QueueError
from infrastructure.mns import MnsJobQueue
from infrastructure.retrying import RetryPolicy
from tests.application.in_memory import FakeClock
from tests.bounded_waits import finish, until
from tests.fakes.mns_server import Fault, MnsFake

QUEUE = "voicescribe-jobs"
AK, SECRET = "test-ak", "test-secret"
VISIBILITY = 30
FAST = RetryPolicy(attempts=3, base_delay_seconds=0.01, max_delay_seconds=0.02, budget_seconds=5)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[MnsFake]:
    with MnsFake(AK, SECRET, clock=clock.now) as server:
        server.add_queue(QUEUE, visibility_timeout=VISIBILITY)
        yield server


@pytest.fixture
async def queue(fake: MnsFake) -> AsyncIterator[MnsJobQueue]:
    adapter = MnsJobQueue(
        fake.endpoint, AK, SECRET, QUEUE, VISIBILITY, request_timeout_seconds=2, retry=FAST
    )
    yield adapter
    await adapter.close()


def send_raw(fake: MnsFake, body: str, *, base64_body: bool) -> None:
    """Send as another producer would, with the SDK directly."""
    account = Account(fake.endpoint, AK, SECRET)
    producer = account.get_queue(QUEUE)
    producer.set_encoding(base64_body)
    try:
        producer.send_message(Message(body))
    finally:
        account.get_client().close_connection()


def calls(fake: MnsFake, operation: str) -> list[int]:
    return [r.status for r in fake.requests if r.operation == operation]


async def test_a_job_goes_on_the_wire_as_signed_xml_with_a_base64_json_body(
    queue: MnsJobQueue, fake: MnsFake
) -> None:
    await queue.enqueue("job-1")

    [sent] = fake.requests
    assert (sent.operation, sent.method, sent.target, sent.status) == (
        "SendMessage", "POST", f"/queues/{QUEUE}/messages", 201)  # fmt: skip
    assert sent.headers["authorization"].startswith(f"MNS {AK}:")
    assert sent.headers["x-mns-version"] == "2015-06-06"
    md5 = hashlib.md5(sent.body.encode()).hexdigest().encode()
    assert sent.headers["content-md5"] == base64.b64encode(md5).decode()
    body = sent.field("MessageBody")
    assert body is not None
    assert json.loads(base64.b64decode(body)) == {"v": 1, "job_id": "job-1"}


async def test_a_wrong_secret_is_rejected_by_the_signature_check_and_not_retried(
    fake: MnsFake,
) -> None:
    adapter = MnsJobQueue(fake.endpoint, AK, "wrong-secret", QUEUE, retry=FAST)
    try:
        with pytest.raises(QueueError, match="SignatureDoesNotMatch") as caught:
            await adapter.enqueue("job-1")
    finally:
        await adapter.close()
    assert caught.value.transient is False
    assert calls(fake, "SendMessage") == [403]


async def test_send_receive_acknowledge_round_trip(queue: MnsJobQueue, fake: MnsFake) -> None:
    await queue.enqueue("job-1")

    message = await queue.receive(1)

    assert message is not None
    assert (message.job_id, message.delivery_count) == ("job-1", 1)
    await queue.acknowledge(message)
    assert fake.depth(QUEUE) == 0
    assert await queue.receive(0) is None


async def test_an_empty_queue_gives_none_after_the_long_poll(
    queue: MnsJobQueue, fake: MnsFake
) -> None:
    started = time.monotonic()
    assert await queue.receive(1) is None
    assert time.monotonic() - started >= 0.9, "the server held the poll for its wait"
    assert calls(fake, "ReceiveMessage") == [404], "one long poll, not a loop of short ones"
    assert fake.requests[-1].target.endswith("?waitseconds=1")


async def test_a_long_poll_wakes_as_soon_as_a_message_arrives(
    queue: MnsJobQueue, fake: MnsFake
) -> None:
    waiting = asyncio.create_task(queue.receive(30))
    await until(lambda: fake.max_in_flight >= 1, 30, "the long poll at the server")
    sent_at = time.monotonic()
    await queue.enqueue("job-1")

    message = await finish(waiting, 30, "the long poll")

    assert message is not None and message.job_id == "job-1"
    assert calls(fake, "ReceiveMessage") == [200], "the poll that was waiting got it"
    assert time.monotonic() - sent_at < 15, "woken by the message, not by the poll's end"


async def test_the_wait_is_clamped_to_the_mns_limit(queue: MnsJobQueue, fake: MnsFake) -> None:
    await queue.enqueue("job-1")
    assert await queue.receive(45) is not None
    assert fake.requests[-1].target.endswith("?waitseconds=30")


async def test_an_unacknowledged_message_comes_back_after_the_visibility_timeout(
    queue: MnsJobQueue, clock: FakeClock
) -> None:
    await queue.enqueue("job-1")
    first = await queue.receive(0)
    assert first is not None
    clock.advance(VISIBILITY - 1)
    assert await queue.receive(0) is None

    clock.advance(2)
    again = await queue.receive(0)

    assert again is not None
    assert (again.job_id, again.delivery_count) == ("job-1", 2)
    assert again.receipt != first.receipt
    with pytest.raises(QueueError, match="receipt expired") as caught:
        await queue.acknowledge(first)
    assert caught.value.transient is False
    await queue.acknowledge(again)


async def test_extend_keeps_the_message_hidden_and_invalidates_the_old_receipt(
    queue: MnsJobQueue, fake: MnsFake, clock: FakeClock
) -> None:
    await queue.enqueue("job-1")
    message = await queue.receive(0)
    assert message is not None

    extended = await queue.extend(message, 100)

    assert fake.requests[-1].target.endswith("&VisibilityTimeout=100")
    assert (extended.job_id, extended.delivery_count) == ("job-1", 1)
    assert extended.receipt != message.receipt
    clock.advance(VISIBILITY + 10)
    assert await queue.receive(0) is None
    with pytest.raises(QueueError, match="receipt expired"):
        await queue.extend(message, 100)
    with pytest.raises(QueueError, match="receipt expired"):
        await queue.acknowledge(message)
    await queue.acknowledge(extended)
    assert fake.depth(QUEUE) == 0


async def test_acknowledging_twice_is_an_error(queue: MnsJobQueue) -> None:
    await queue.enqueue("job-1")
    message = await queue.receive(0)
    assert message is not None
    await queue.acknowledge(message)

    with pytest.raises(QueueError, match="receipt expired") as caught:
        await queue.acknowledge(message)
    assert caught.value.transient is False


@pytest.mark.parametrize(
    "fault",
    [
        Fault(503, "ServiceUnavailable"),
        Fault(500, "InternalError"),
        Fault(403, "QpsLimitExceeded"),
        Fault(malformed=True),
    ],
    ids=["503", "500", "throttled", "malformed-xml"],
)
async def test_transient_failures_are_retried_then_succeed(
    queue: MnsJobQueue, fake: MnsFake, fault: Fault
) -> None:
    fake.inject(fault, fault)

    await queue.enqueue("job-1")

    assert len(calls(fake, "SendMessage")) == 3
    assert fake.depth(QUEUE) == 1


async def test_a_persistent_5xx_ends_in_a_transient_queue_error(
    queue: MnsJobQueue, fake: MnsFake
) -> None:
    fake.inject(*[Fault(500, "InternalError", operation="ReceiveMessage")] * 5)

    with pytest.raises(QueueError, match="InternalError") as caught:
        await queue.receive(0)

    assert caught.value.transient is True
    assert calls(fake, "ReceiveMessage") == [500] * FAST.attempts


async def test_a_hung_server_hits_the_socket_timeout_and_the_call_is_retried(
    fake: MnsFake,
) -> None:
    adapter = MnsJobQueue(fake.endpoint, AK, SECRET, QUEUE, request_timeout_seconds=0.3, retry=FAST)
    fake.inject(Fault(503, delay_seconds=10, operation="SendMessage"))
    try:
        await adapter.enqueue("job-1")
    finally:
        await adapter.close()
    assert calls(fake, "SendMessage") == [201], "sent again while the hung call still hung"
    assert fake.depth(QUEUE) == 1


async def test_a_missing_queue_is_a_permanent_error(fake: MnsFake) -> None:
    adapter = MnsJobQueue(fake.endpoint, AK, SECRET, "no-such-queue", retry=FAST)
    try:
        with pytest.raises(QueueError, match="QueueNotExist") as caught:
            await adapter.receive(0)
    finally:
        await adapter.close()
    assert caught.value.transient is False
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("body", "base64_body"),
    [("not a job", True), ("not base64 at all!", False), ('{"v": 1}', True), ("[1]", True)],
)
async def test_a_body_that_is_not_a_job_message_is_logged_and_dropped(
    queue: MnsJobQueue,
    fake: MnsFake,
    caplog: pytest.LogCaptureFixture,
    body: str,
    base64_body: bool,
) -> None:
    send_raw(fake, body, base64_body=base64_body)

    with caplog.at_level(logging.ERROR):
        assert await queue.receive(0) is None

    assert fake.depth(QUEUE) == 0
    assert "dropping MNS message" in caplog.text


async def test_a_producer_with_the_sdk_default_encoding_interoperates(
    queue: MnsJobQueue, fake: MnsFake
) -> None:
    body = json.dumps({"v": 1, "job_id": "job-7", "added_later": True})
    send_raw(fake, body, base64_body=True)  # the SDK's default encoding

    message = await queue.receive(0)

    assert message is not None and message.job_id == "job-7"


async def test_create_queue_sets_the_visibility_timeout_and_is_idempotent(
    fake: MnsFake,
) -> None:
    fake.add_queue("existing", visibility_timeout=30)
    for name in ["fresh", "existing"]:
        adapter = MnsJobQueue(fake.endpoint, AK, SECRET, name, 120, retry=FAST)
        try:
            await adapter.create_queue()
            await adapter.create_queue()
        finally:
            await adapter.close()
        assert fake.attributes(name)["VisibilityTimeout"] == 120
    assert calls(fake, "CreateQueue") == [201, 204, 409, 204]


async def test_concurrent_receivers_never_share_a_message(
    queue: MnsJobQueue, fake: MnsFake
) -> None:
    job_ids = [f"job-{n}" for n in range(40)]
    received: list[str] = []

    async def consume() -> None:
        while (message := await queue.receive(10)) is not None:
            await queue.acknowledge(message)
            if message.job_id == "stop":
                return
            received.append(message.job_id)

    consumers = [asyncio.create_task(consume()) for _ in range(8)]
    await until(lambda: fake.max_in_flight >= 8, 30, "eight long polls at the server")
    await asyncio.gather(*(queue.enqueue(job_id) for job_id in job_ids))
    assert 404 not in calls(fake, "ReceiveMessage"), "senders went before any poll ran out"
    await until(lambda: len(received) >= len(job_ids), 30, "every job received")
    await asyncio.gather(*(queue.enqueue("stop") for _ in consumers))  # one for each
    await asyncio.gather(*consumers)

    assert sorted(received) == sorted(job_ids)
    assert fake.depth(QUEUE) == 0
    assert fake.max_in_flight >= 8
    assert all(r.status in (200, 201, 204, 404) for r in fake.requests)
