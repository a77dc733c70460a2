"""Uploads kept on local disk (``VOICESCRIBE_DATA_DIR/uploads/``), the embedded default.

Each upload is two files named by its id, never by the user's file name: ``ID.part`` (the
bytes, appended as they stream in, flushed to disk before an offset is acknowledged) and
``ID.json`` (owner, declared size, name, job; replaced atomically). What is received is
the ``.part`` file's length, so a crash or a dropped connection resumes from exactly what
reached the disk. Writes run in a thread a few chunks at a time: the request's chunks
are never all held in memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import attrs

from application.errors import UploadError
from application.ports import UploadRecord

# Ids are made by the application (secrets.token_urlsafe); anything else names nothing.
UPLOAD_ID = re.compile(r"\A[A-Za-z0-9_-]{8,64}\Z")
WRITE_BATCH_BYTES = 1 << 20


class LocalUploadStorage:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _paths(self, upload_id: str) -> tuple[Path, Path]:
        if not UPLOAD_ID.match(upload_id):
            raise UploadError(f"not an upload id: {upload_id!r}")
        return self._root / f"{upload_id}.part", self._root / f"{upload_id}.json"

    async def create(self, record: UploadRecord) -> None:
        data, meta = self._paths(record.upload_id)
        try:
            await asyncio.to_thread(self._create, data, meta, record)
        except OSError as error:
            raise UploadError(f"upload not created: {error}", transient=True) from error

    def _create(self, data: Path, meta: Path, record: UploadRecord) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        data.touch(exist_ok=False)
        _write_meta(meta, record)

    async def get(self, upload_id: str) -> UploadRecord | None:
        if not UPLOAD_ID.match(upload_id):
            return None
        data, meta = self._paths(upload_id)
        try:
            return await asyncio.to_thread(_read_record, data, meta)
        except OSError as error:
            raise UploadError(f"upload not readable: {error}", transient=True) from error

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterator[bytes]) -> int:
        data, _ = self._paths(upload_id)
        try:
            handle = await asyncio.to_thread(open, data, "r+b")
        except OSError as error:
            raise UploadError(f"upload not writable: {error}") from error
        try:
            await asyncio.to_thread(handle.seek, offset)
            batch: list[bytes] = []
            held = 0
            try:
                async for chunk in chunks:
                    batch.append(chunk)
                    held += len(chunk)
                    if held >= WRITE_BATCH_BYTES:
                        await asyncio.to_thread(handle.write, b"".join(batch))
                        batch, held = [], 0
            finally:  # what arrived before the stream stopped is kept: a resume needs it
                if batch:
                    await asyncio.to_thread(handle.write, b"".join(batch))
                await asyncio.to_thread(_flush, handle)
            return int(await asyncio.to_thread(handle.tell))
        except OSError as error:
            raise UploadError(f"upload not written: {error}", transient=True) from error
        finally:
            await asyncio.to_thread(handle.close)

    async def mark_submitted(self, upload_id: str, job_id: str) -> None:
        data, meta = self._paths(upload_id)
        try:
            record = await asyncio.to_thread(_read_record, data, meta)
            if record is None:
                raise UploadError(f"upload {upload_id} is gone")
            await asyncio.to_thread(_write_meta, meta, attrs.evolve(record, job_id=job_id))
        except OSError as error:
            raise UploadError(f"upload not updated: {error}", transient=True) from error

    async def read(self, upload_id: str) -> bytes:
        data, _ = self._paths(upload_id)
        try:
            return await asyncio.to_thread(data.read_bytes)
        except FileNotFoundError as error:
            raise UploadError(f"upload {upload_id} is gone") from error
        except OSError as error:
            raise UploadError(f"upload not readable: {error}", transient=True) from error

    async def remove(self, upload_id: str) -> None:
        data, meta = self._paths(upload_id)
        try:
            await asyncio.to_thread(meta.unlink, True)
            await asyncio.to_thread(data.unlink, True)
        except OSError as error:
            raise UploadError(f"upload not removed: {error}", transient=True) from error

    async def list_all(self, limit: int) -> Sequence[UploadRecord]:
        try:
            return await asyncio.to_thread(self._list, limit)
        except OSError as error:
            raise UploadError(f"uploads not listed: {error}", transient=True) from error

    def _list(self, limit: int) -> list[UploadRecord]:
        if not self._root.is_dir():
            return []
        records = []
        for meta in sorted(self._root.glob("*.json"))[:limit]:
            upload_id = meta.stem
            if UPLOAD_ID.match(upload_id):
                record = _read_record(self._root / f"{upload_id}.part", meta)
                if record is not None:
                    records.append(record)
        return records


def _flush(handle: object) -> None:
    handle.flush()  # type: ignore[attr-defined]
    os.fsync(handle.fileno())  # type: ignore[attr-defined]


def _fields(record: UploadRecord) -> dict[str, object]:
    return {
        "upload_id": record.upload_id,
        "owner_id": record.owner_id,
        "size": record.size,
        "file_name": record.file_name,
        "created_at": record.created_at,
        "job_id": record.job_id,
    }


def _write_meta(meta: Path, record: UploadRecord) -> None:
    temporary = meta.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(_fields(record)), encoding="utf-8")
    os.replace(temporary, meta)


def _read_record(data: Path, meta: Path) -> UploadRecord | None:
    try:
        fields = json.loads(meta.read_text(encoding="utf-8"))
        received = data.stat().st_size
    except FileNotFoundError:
        return None
    except ValueError as error:
        raise UploadError(f"upload record {meta.name} is unreadable") from error
    return UploadRecord(
        upload_id=str(fields["upload_id"]),
        owner_id=int(fields["owner_id"]),
        size=int(fields["size"]),
        file_name=str(fields["file_name"]),
        created_at=float(fields["created_at"]),
        received=received,
        job_id=fields.get("job_id"),
    )
