"""The upload use case on in-memory ports: resumable by offset, capped, owned, submitted
once as a job charged once, and swept when settled or abandoned."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from application.handlers.uploads import (
    UploadNotFound,
    UploadRefused,
    Uploads,
    UploadTooLarge,
)
from domain.jobs import JobStatus
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio
from tests.application.in_memory_uploads import InMemoryUploadStorage

USER, OTHER = 7, 8
HOUR = 3600.0


def uploads_in(world: World, storage: InMemoryUploadStorage, max_bytes: int = 100) -> Uploads:
    return Uploads(
        storage=storage,
        bus=world.app.bus,
        jobs=world.jobs,
        style_of=world.app.preferences.of,
        clock=world.clock,
        max_bytes=max_bytes,
        retention_seconds=24 * HOUR,
    )


async def body(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.fixture
def storage() -> InMemoryUploadStorage:
    return InMemoryUploadStorage()


async def test_a_complete_upload_becomes_one_job_charged_once(
    world: World, storage: InMemoryUploadStorage
) -> None:
    uploads = uploads_in(world, storage)
    record = await uploads.start(USER, "talk.m4a", 10, "audio/mp4")
    world.files.files[f"upload:{record.upload_id}"] = FakeAudio(30.0)
    first = await uploads.receive(USER, record.upload_id, 0, body(b"01234"))
    assert first.record.received == 5 and first.outcome is None
    done = await uploads.receive(USER, record.upload_id, 5, body(b"56789"))
    assert done.record.job_id == f"upload:{record.upload_id}"
    job = await world.jobs.get(done.record.job_id)
    assert job is not None and job.status is JobStatus.DELIVERED and job.chat_id == USER
    with pytest.raises(UploadRefused):  # complete: nothing more is taken, nothing resubmitted
        await uploads.receive(USER, record.upload_id, 10, body(b"x"))
    account = await world.accounts.get(USER)
    assert account is not None and account.spent == 1
    assert [job_id for job_id, _ in world.messenger.delivered] == [done.record.job_id]


async def test_a_chunk_from_the_wrong_offset_is_refused_and_nothing_written(
    world: World, storage: InMemoryUploadStorage
) -> None:
    uploads = uploads_in(world, storage)
    record = await uploads.start(USER, "talk.m4a", 10, "audio/mp4")
    await uploads.receive(USER, record.upload_id, 0, body(b"012"))
    for wrong in (0, 2, 4):
        with pytest.raises(UploadRefused) as refused:
            await uploads.receive(USER, record.upload_id, wrong, body(b"abc"))
        assert refused.value.reason == "offset"
    assert await storage.read(record.upload_id) == b"012"


async def test_more_than_declared_keeps_only_whole_chunks_that_fit(
    world: World, storage: InMemoryUploadStorage
) -> None:
    uploads = uploads_in(world, storage)
    record = await uploads.start(USER, "talk.m4a", 10, "audio/mp4")
    with pytest.raises(UploadTooLarge):
        await uploads.receive(USER, record.upload_id, 0, body(b"0123", b"4567", b"89ab"))
    assert await storage.read(record.upload_id) == b"01234567"
    assert await world.jobs.list_by_user(USER, 10) == []


@pytest.mark.parametrize(
    ("declared", "reason"),
    [
        ((0, "audio/ogg", "a.ogg"), "empty"),
        ((101, "audio/ogg", "a.ogg"), "too_large"),
        ((10, "application/pdf", "a.pdf"), "not_a_recording"),
    ],
)
async def test_uploads_that_cannot_start(
    world: World, storage: InMemoryUploadStorage, declared: tuple[int, str, str], reason: str
) -> None:
    size, kind, name = declared
    with pytest.raises(UploadRefused) as refused:
        await uploads_in(world, storage).start(USER, name, size, kind)
    assert refused.value.reason == reason
    assert storage.records == {}


async def test_another_users_upload_is_not_found(
    world: World, storage: InMemoryUploadStorage
) -> None:
    uploads = uploads_in(world, storage)
    record = await uploads.start(USER, "talk.m4a", 10, "audio/mp4")
    for call in (
        uploads.status(OTHER, record.upload_id),
        uploads.receive(OTHER, record.upload_id, 0, body(b"0123456789")),
        uploads.cancel(OTHER, record.upload_id),
    ):
        with pytest.raises(UploadNotFound):
            await call
    assert (await uploads.status(USER, record.upload_id)).received == 0


async def test_the_sweep_removes_settled_and_abandoned_uploads_only(
    world: World, storage: InMemoryUploadStorage
) -> None:
    uploads = uploads_in(world, storage)
    settled = await uploads.start(USER, "done.m4a", 4, "audio/mp4")
    world.files.files[f"upload:{settled.upload_id}"] = FakeAudio(20.0)
    await uploads.receive(USER, settled.upload_id, 0, body(b"0123"))
    waiting = await uploads.start(USER, "half.m4a", 4, "audio/mp4")
    await uploads.receive(USER, waiting.upload_id, 0, body(b"01"))

    assert await uploads.sweep() == 1  # the delivered job's upload
    assert set(storage.records) == {waiting.upload_id}
    world.clock.advance(23 * HOUR)
    assert await uploads.sweep() == 0  # still within UPLOAD_RETENTION_HOURS
    world.clock.advance(2 * HOUR)
    assert await uploads.sweep() == 1
    assert storage.records == {}
