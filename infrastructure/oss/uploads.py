"""Mini App uploads in OSS, for the ``alibaba`` profile (Function Compute has no lasting
disk): each upload is an appendable object ``uploads/ID`` (OSS's AppendObject takes bytes
only at the object's current length, which is exactly the resume rule) and a small
``uploads/ID.json`` with its owner, size, name and job. ``received`` is the object's
length (HeadObject). The page's chunks (4 MB, under Function Compute's request limits)
are appended as they come, at most ``APPEND_BATCH_BYTES`` held at a time. Objects are
removed by the sweep once the job is settled; a bucket lifecycle rule on ``uploads/``
(``deploy/``) removes whatever a sweep missed.

The SDK (``oss2``) is synchronous: every call runs in a thread, with connect and read
timeouts, retried with backoff when OSS answers 5xx or the network fails; its errors map
onto ``UploadError``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TypeVar

import attrs
import oss2
import requests

from application.errors import UploadError
from application.ports import UploadRecord
from infrastructure.retrying import RetryPolicy, with_retries

T = TypeVar("T")
PREFIX = "uploads/"
UPLOAD_ID = re.compile(r"\A[A-Za-z0-9_-]{8,64}\Z")
APPEND_BATCH_BYTES = 4 << 20
TIMEOUT_SECONDS = 30


class OssUploadStorage:
    def __init__(
        self,
        endpoint: str,
        bucket: str,
        access_key_id: str,
        access_key_secret: str,
        security_token: str = "",
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        auth = (
            oss2.StsAuth(access_key_id, access_key_secret, security_token)
            if security_token
            else oss2.Auth(access_key_id, access_key_secret)
        )
        self._bucket = oss2.Bucket(
            auth,
            endpoint,
            bucket,
            connect_timeout=TIMEOUT_SECONDS,
            enable_crc=False,
            is_path_style=endpoint.startswith("http://127.") or "localhost" in endpoint,
        )
        self._retry = retry or RetryPolicy()

    async def _call(self, what: str, operation: Callable[[], T]) -> T:
        async def attempt() -> T:
            try:
                return await asyncio.to_thread(operation)
            except oss2.exceptions.OssError as error:
                transient = error.status >= 500 or error.status in (-1, -2, 429)
                raise UploadError(
                    f"OSS {what}: {error.code or error.status}", transient=transient
                ) from error
            except requests.RequestException as error:
                raise UploadError(f"OSS {what}: {error}", transient=True) from error

        return await with_retries(attempt, self._retry, what=f"OSS {what}")

    @staticmethod
    def _key(upload_id: str) -> str:
        if not UPLOAD_ID.match(upload_id):
            raise UploadError(f"not an upload id: {upload_id!r}")
        return PREFIX + upload_id

    async def create(self, record: UploadRecord) -> None:
        key = self._key(record.upload_id)
        await self._call("create", lambda: self._bucket.put_object(key + ".json", _meta(record)))

    async def get(self, upload_id: str) -> UploadRecord | None:
        if not UPLOAD_ID.match(upload_id):
            return None
        key = self._key(upload_id)

        def read() -> UploadRecord | None:
            try:
                fields = json.loads(self._bucket.get_object(key + ".json").read())
            except oss2.exceptions.NoSuchKey:
                return None
            try:
                received = int(self._bucket.head_object(key).content_length or 0)
            except oss2.exceptions.NotFound:
                received = 0
            return _record(fields, received)

        return await self._call("get", read)

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterator[bytes]) -> int:
        key = self._key(upload_id)
        position = offset
        batch: list[bytes] = []
        held = 0
        try:
            async for chunk in chunks:
                batch.append(chunk)
                held += len(chunk)
                if held >= APPEND_BATCH_BYTES:
                    position = await self._append(key, position, b"".join(batch))
                    batch, held = [], 0
        finally:  # what arrived before the stream stopped is kept: a resume needs it
            if batch:
                position = await self._append(key, position, b"".join(batch))
        return position

    async def _append(self, key: str, position: int, data: bytes) -> int:
        end = position + len(data)

        def append() -> int:
            try:
                return int(self._bucket.append_object(key, position, data).next_position)
            except oss2.exceptions.PositionNotEqualToLength:
                # A retry of an append whose answer was lost: done if the length says so.
                if int(self._bucket.head_object(key).content_length or 0) == end:
                    return end
                raise

        return await self._call("append", append)

    async def mark_submitted(self, upload_id: str, job_id: str) -> None:
        record = await self.get(upload_id)
        if record is None:
            raise UploadError(f"upload {upload_id} is gone")
        key = self._key(upload_id) + ".json"
        marked = attrs.evolve(record, job_id=job_id)
        await self._call("mark", lambda: self._bucket.put_object(key, _meta(marked)))

    async def read(self, upload_id: str) -> bytes:
        key = self._key(upload_id)
        try:
            return await self._call("read", lambda: bytes(self._bucket.get_object(key).read()))
        except UploadError as error:
            if isinstance(error.__cause__, oss2.exceptions.NoSuchKey):
                raise UploadError(f"upload {upload_id} is gone") from error
            raise

    async def remove(self, upload_id: str) -> None:
        key = self._key(upload_id)

        def delete() -> None:
            self._bucket.delete_object(key)
            self._bucket.delete_object(key + ".json")

        await self._call("remove", delete)

    async def list_all(self, limit: int) -> Sequence[UploadRecord]:
        def keys() -> list[str]:
            listed = self._bucket.list_objects(prefix=PREFIX, max_keys=min(limit, 1000))
            return [o.key for o in listed.object_list if o.key.endswith(".json")]

        records = []
        for key in await self._call("list", keys):
            record = await self.get(key.removeprefix(PREFIX).removesuffix(".json"))
            if record is not None:
                records.append(record)
        return records


def _meta(record: UploadRecord) -> bytes:
    fields = {
        "upload_id": record.upload_id,
        "owner_id": record.owner_id,
        "size": record.size,
        "file_name": record.file_name,
        "created_at": record.created_at,
        "job_id": record.job_id,
    }
    return json.dumps(fields).encode()


def _record(fields: dict[str, object], received: int) -> UploadRecord:
    job_id = fields.get("job_id")
    return UploadRecord(
        upload_id=str(fields["upload_id"]),
        owner_id=int(str(fields["owner_id"])),
        size=int(str(fields["size"])),
        file_name=str(fields["file_name"]),
        created_at=float(str(fields["created_at"])),
        received=received,
        job_id=str(job_id) if job_id is not None else None,
    )
