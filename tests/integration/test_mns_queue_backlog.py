"""The MNS queue's backlog (for ``/healthz``), with the real SDK against the MNS fake:
GetQueueAttributes' three counts, no age (MNS tells none), errors mapped, not swallowed."""

from __future__ import annotations

import warnings

import pytest

from application.errors import QueueError
from application.ports import QueueBacklog
from infrastructure.mns import MnsJobQueue
from tests.fakes.mns_server import Fault, MnsFake
from tests.integration.test_mns_queue import AK, FAST, SECRET, VISIBILITY, clock, fake, queue

__all__ = ["clock", "fake", "queue"]  # the fixtures, shared


async def test_the_backlog_counts_receivable_in_progress_and_delayed_messages(
    queue: MnsJobQueue,
) -> None:
    assert await queue.backlog() == QueueBacklog(0, None)
    for job_id in ("a", "b"):
        await queue.enqueue(job_id)
    await queue.enqueue("later", delay_seconds=60)
    taken = await queue.receive(0)
    assert taken is not None

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the SDK's count properties warn
        backlog = await queue.backlog()

    assert backlog == QueueBacklog(3, None), "one of each: receivable, in progress, delayed"


async def test_a_failing_attributes_call_is_retried_then_raised_as_a_queue_error(
    queue: MnsJobQueue, fake: MnsFake
) -> None:
    fake.inject(Fault(503, "ServiceUnavailable", operation="GetQueueAttributes"))
    assert await queue.backlog() == QueueBacklog(0, None)
    fake.inject(*[Fault(500, "InternalError", operation="GetQueueAttributes")] * 5)
    with pytest.raises(QueueError):
        await queue.backlog()


async def test_an_unknown_queue_is_a_queue_error(fake: MnsFake) -> None:
    missing = MnsJobQueue(
        fake.endpoint,
        AK,
        SECRET,
        "no-such-queue",
        VISIBILITY,
        request_timeout_seconds=2,
        retry=FAST,
    )
    try:
        with pytest.raises(QueueError):
            await missing.backlog()
    finally:
        await missing.close()
