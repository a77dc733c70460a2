"""One contract for every ``UploadStorage``: in memory, the local folder, and OSS (the
real ``oss2`` SDK against the wire fake in ``tests/fakes/oss_server.py``).

Why: the upload use case is tested against the in-memory storage and runs against the
others; this keeps them alike where resuming depends on it: ``received`` is exactly what
was appended (also when the stream stopped early), an append continues from an offset,
a removed upload is gone, and ids never reach the file system as paths.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from application.errors import UploadError
from application.ports import UploadRecord, UploadStorage
from infrastructure.local.uploads import LocalUploadStorage
from infrastructure.oss import OssUploadStorage
from infrastructure.retrying import RetryPolicy
from tests.application.in_memory_uploads import InMemoryUploadStorage
from tests.fakes.oss_server import OssFake


@pytest.fixture(params=["in_memory", "local", "oss"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UploadStorage]:
    if request.param == "in_memory":
        yield InMemoryUploadStorage()
    elif request.param == "local":
        yield LocalUploadStorage(tmp_path / "uploads")
    else:
        with OssFake() as fake:
            fake.failures = 1  # the first call meets a 503: retried
            yield OssUploadStorage(
                fake.endpoint, fake.bucket, fake.access_key_id, fake.access_key_secret, retry=FAST
            )


FAST = RetryPolicy(attempts=3, base_delay_seconds=0.01, budget_seconds=5)


def record(upload_id: str = "upload-0001", size: int = 10, owner: int = 7) -> UploadRecord:
    return UploadRecord(upload_id, owner, size, "talk.m4a", created_at=100.0)


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


class StreamBroke(Exception):
    """The request's body stopped (what the HTTP layer's disconnect or a cap raises)."""


async def broken(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
    raise StreamBroke


async def test_a_new_upload_is_empty_and_kept_as_declared(storage: UploadStorage) -> None:
    await storage.create(record())
    assert await storage.get("upload-0001") == record()
    assert [r.upload_id for r in await storage.list_all(10)] == ["upload-0001"]


async def test_appends_continue_from_the_offset_and_read_back_whole(
    storage: UploadStorage,
) -> None:
    await storage.create(record())
    assert await storage.append("upload-0001", 0, chunks(b"abc", b"de")) == 5
    assert await storage.append("upload-0001", 5, chunks(b"fghij")) == 10
    assert await storage.read("upload-0001") == b"abcdefghij"
    stored = await storage.get("upload-0001")
    assert stored is not None and stored.received == 10


async def test_a_stream_that_breaks_keeps_what_arrived(storage: UploadStorage) -> None:
    await storage.create(record())
    with pytest.raises(StreamBroke):
        await storage.append("upload-0001", 0, broken(b"abc", b"d"))
    stored = await storage.get("upload-0001")
    assert stored is not None and stored.received == 4
    assert await storage.append("upload-0001", 4, chunks(b"efghij")) == 10
    assert await storage.read("upload-0001") == b"abcdefghij"


async def test_submission_is_remembered(storage: UploadStorage) -> None:
    await storage.create(record())
    await storage.mark_submitted("upload-0001", "upload:upload-0001")
    stored = await storage.get("upload-0001")
    assert stored is not None and stored.job_id == "upload:upload-0001"


async def test_a_removed_upload_is_gone(storage: UploadStorage) -> None:
    await storage.create(record())
    await storage.append("upload-0001", 0, chunks(b"abc"))
    await storage.remove("upload-0001")
    await storage.remove("upload-0001")  # removing twice is done, not an error
    assert await storage.get("upload-0001") is None
    assert await storage.list_all(10) == []
    with pytest.raises(UploadError):
        await storage.read("upload-0001")


async def test_unknown_ids_name_nothing(storage: UploadStorage) -> None:
    for upload_id in ("missing-0001", "../../etc/passwd", "a/b", ""):
        assert await storage.get(upload_id) is None


async def test_local_ids_never_become_paths(tmp_path: Path) -> None:
    storage = LocalUploadStorage(tmp_path / "uploads")
    with pytest.raises(UploadError):
        await storage.create(record(upload_id="../escape-0001"))
    with pytest.raises(UploadError):
        await storage.read("../../secret")
    assert not (tmp_path / "escape-0001.part").exists()
