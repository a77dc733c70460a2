"""An in-memory ``UploadStorage`` for the application's tests (and the contract suite)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import attrs

from application.errors import UploadError
from application.ports import UploadRecord


class InMemoryUploadStorage:
    def __init__(self) -> None:
        self.records: dict[str, UploadRecord] = {}
        self.data: dict[str, bytearray] = {}

    async def create(self, record: UploadRecord) -> None:
        if record.upload_id in self.records:
            raise UploadError(f"upload {record.upload_id} exists")
        self.records[record.upload_id] = attrs.evolve(record, received=0)
        self.data[record.upload_id] = bytearray()

    async def get(self, upload_id: str) -> UploadRecord | None:
        record = self.records.get(upload_id)
        if record is None:
            return None
        return attrs.evolve(record, received=len(self.data[upload_id]))

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterator[bytes]) -> int:
        data = self.data.get(upload_id)
        if data is None:
            raise UploadError(f"upload {upload_id} is gone")
        del data[offset:]
        async for chunk in chunks:
            data.extend(chunk)
        return len(data)

    async def mark_submitted(self, upload_id: str, job_id: str) -> None:
        if upload_id not in self.records:
            raise UploadError(f"upload {upload_id} is gone")
        self.records[upload_id] = attrs.evolve(self.records[upload_id], job_id=job_id)

    async def read(self, upload_id: str) -> bytes:
        if upload_id not in self.data:
            raise UploadError(f"upload {upload_id} is gone")
        return bytes(self.data[upload_id])

    async def remove(self, upload_id: str) -> None:
        self.records.pop(upload_id, None)
        self.data.pop(upload_id, None)

    async def list_all(self, limit: int) -> Sequence[UploadRecord]:
        found = [await self.get(upload_id) for upload_id in list(self.records)[:limit]]
        return [record for record in found if record is not None]
