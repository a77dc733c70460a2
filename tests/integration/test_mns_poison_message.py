"""A job that keeps failing over MNS: redelivered with a growing DequeueCount, then settled
as failed once its attempts run out (minutes released, user told), never left circling."""

from __future__ import annotations

from collections.abc import AsyncIterator

import attrs
import pytest

from application.bootstrap import Tuning, bootstrap
from application.commands import AcceptVoiceNote
from application.errors import FileUnavailable
from application.notices import NoticeReason
from domain.jobs import AudioSource, JobStatus, MediaKind
from infrastructure.mns import MnsJobQueue
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio
from tests.fakes.mns_server import MnsFake
from tests.integration.test_mns_queue import AK, FAST, QUEUE, SECRET, VISIBILITY


@pytest.fixture
async def world_on_mns() -> AsyncIterator[tuple[World, MnsFake]]:
    world = World.build()
    with MnsFake(AK, SECRET, clock=world.clock.now) as mns:
        mns.add_queue(QUEUE, visibility_timeout=VISIBILITY)
        queue = MnsJobQueue(
            mns.endpoint, AK, SECRET, QUEUE, VISIBILITY, request_timeout_seconds=2, retry=FAST
        )
        ports = world.ports(
            queue=queue,
        )
        app = bootstrap(ports, Tuning(max_attempts=3, queue_visibility_seconds=VISIBILITY))
        yield attrs.evolve(world, app=app), mns
        await queue.close()


async def test_a_poison_message_is_failed_after_its_attempts(
    world_on_mns: tuple[World, MnsFake],
) -> None:
    world, mns = world_on_mns
    world.files.files["f"] = FakeAudio(120.0)
    # A transient failure that is not a recognizer outage (those are waited out instead).
    world.files.failures.extend(FileUnavailable("503", transient=True) for _ in range(9))
    source = AudioSource(MediaKind.VOICE, "f", "uf", 120.0)
    await world.app.bus.handle(AcceptVoiceNote("job", 1, 1, source))

    deliveries = 0
    while mns.depth(QUEUE) and deliveries < 10:
        await world.app.consumer.consume_one(wait_seconds=1)
        deliveries += 1
        world.clock.advance(VISIBILITY + 1)

    job = world.jobs.rows["job"]
    assert job.status is JobStatus.FAILED and job.attempts == 3
    assert deliveries == 3, "two tries left for redelivery, the third fails for good"
    assert world.messenger.notices[-1][1].reason is NoticeReason.FILE_UNAVAILABLE
    account = world.accounts.rows[1]
    assert (account.balance, account.reserved, account.spent) == (15, 0, 0)
    assert mns.depth(QUEUE) == 0, "acknowledged once settled"
