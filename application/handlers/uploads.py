"""Use case: a recording uploaded through the Mini App, from its first byte to its job.

The page starts an upload (declared size and type, checked by ``domain.uploads``), sends
its bytes in requests that each continue from what storage holds (a dropped connection
or a closed app resumes from the last acknowledged byte), and once the last byte is
stored the recording goes through ``AcceptVoiceNote`` like a note sent in the chat:
priced, reserved, queued or processed, answered in the chat with the bot, charged once
(the job's id is the upload's, so submitting twice makes one job). Every call names the
user taken from validated ``initData``; another user's upload is "not found", never
"forbidden", so ids cannot be probed. The sweep removes uploads whose job is settled and
those abandoned past the retention time.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

import attrs

from application.bus import MessageBus
from application.commands import AcceptVoiceNote
from application.errors import UploadError
from application.ports import Clock, JobRepository, UploadRecord, UploadStorage
from application.reports import AcceptOutcome
from domain.jobs import AudioSource, MediaKind, UserStyle
from domain.uploads import (
    StartRefusal,
    is_complete,
    may_append,
    room_left,
    should_remove,
    start_refusal,
)

log = logging.getLogger(__name__)

UPLOADED = "upload:"
SWEEP_BATCH = 1000


class UploadRefused(Exception):
    """The request cannot be done; ``reason`` tells the page why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UploadNotFound(UploadRefused):
    def __init__(self) -> None:
        super().__init__("not_found")


class UploadTooLarge(UploadRefused):
    def __init__(self) -> None:
        super().__init__("too_large")


@attrs.frozen
class Submitted:
    """What became of a complete upload: its job and how it was accepted."""

    record: UploadRecord
    outcome: AcceptOutcome | None = None


# Tells the chat a recording arrived (the usual "Received" status, edited as the job goes
# on): given the chat and the user's language, returns the status message's id, or None.
Announce = Callable[[int, str | None], Awaitable[int | None]]


async def _no_announcement(chat_id: int, language: str | None) -> int | None:
    return None


class Uploads:
    def __init__(
        self,
        *,
        storage: UploadStorage,
        bus: MessageBus,
        jobs: JobRepository,
        style_of: Callable[[int], Awaitable[UserStyle]],
        clock: Clock,
        max_bytes: int,
        retention_seconds: float,
        announce: Announce = _no_announcement,
    ) -> None:
        self._storage = storage
        self._bus = bus
        self._jobs = jobs
        self._style_of = style_of
        self._clock = clock
        self._max_bytes = max_bytes
        self._retention_seconds = retention_seconds
        self._announce = announce

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    async def start(
        self, user_id: int, file_name: str, size: int, mime_type: str | None
    ) -> UploadRecord:
        refusal = start_refusal(size, self._max_bytes, mime_type, file_name)
        if refusal is StartRefusal.TOO_LARGE:
            raise UploadTooLarge
        if refusal is not None:
            raise UploadRefused(refusal.value)
        record = UploadRecord(
            upload_id=secrets.token_urlsafe(18),
            owner_id=user_id,
            size=size,
            file_name=file_name[:200],
            created_at=self._clock.now(),
        )
        await self._storage.create(record)
        return record

    async def status(self, user_id: int, upload_id: str) -> UploadRecord:
        record = await self._storage.get(upload_id)
        if record is None or record.owner_id != user_id:
            raise UploadNotFound
        return record

    async def receive(
        self,
        user_id: int,
        upload_id: str,
        offset: int,
        chunks: AsyncIterator[bytes],
        language: str | None = None,
    ) -> Submitted:
        """Store the bytes sent from ``offset``; the last one submits the recording.
        A stream bringing more than the declared size stores what fits, then refuses."""
        record = await self.status(user_id, upload_id)
        if not may_append(record.received, record.size, offset):
            raise UploadRefused("offset")
        limited = _at_most(chunks, room_left(record.received, record.size))
        received = await self._storage.append(upload_id, offset, limited)
        record = attrs.evolve(record, received=received)
        if not is_complete(record.received, record.size):
            return Submitted(record)
        return await self._submit(record, language)

    async def _submit(self, record: UploadRecord, language: str | None) -> Submitted:
        job_id = UPLOADED + record.upload_id
        status_id = await self._announce(record.owner_id, language)
        style = attrs.evolve(await self._style_of(record.owner_id), ui_language=language)
        outcome = await self._bus.handle(
            AcceptVoiceNote(
                request_id=job_id,
                user_id=record.owner_id,
                chat_id=record.owner_id,  # the private chat with the bot
                source=AudioSource(
                    kind=MediaKind.DOCUMENT,
                    file_id=job_id,
                    file_unique_id=job_id,
                    file_size=record.size,
                    file_name=record.file_name,
                ),
                style=style,
                status_message_id=status_id,
            )
        )
        await self._storage.mark_submitted(record.upload_id, job_id)
        return Submitted(attrs.evolve(record, job_id=job_id), outcome)

    async def cancel(self, user_id: int, upload_id: str) -> None:
        record = await self.status(user_id, upload_id)
        if record.job_id is not None:
            raise UploadRefused("submitted")
        await self._storage.remove(upload_id)

    async def sweep(self) -> int:
        """Remove uploads whose job is settled, and those abandoned past the retention
        time; returns how many went. A storage error propagates (the next sweep retries)."""
        now, removed = self._clock.now(), 0
        for record in await self._storage.list_all(SWEEP_BATCH):
            settled = False
            if record.job_id is not None:
                job = await self._jobs.get(record.job_id)
                settled = job is not None and job.status.is_finished
            if should_remove(
                created_at=record.created_at,
                now=now,
                retention_seconds=self._retention_seconds,
                job_settled=settled,
            ):
                await self._storage.remove(record.upload_id)
                removed += 1
        return removed


async def _at_most(chunks: AsyncIterator[bytes], room: int) -> AsyncIterator[bytes]:
    """The chunks while they fit in ``room`` bytes, then ``UploadTooLarge`` before the
    first that does not: what was stored stays a prefix the page can resume from."""
    for_now = room
    async for chunk in chunks:
        if len(chunk) > for_now:
            raise UploadTooLarge
        for_now -= len(chunk)
        yield chunk


__all__ = ["UploadError", "UploadNotFound", "UploadRefused", "UploadTooLarge", "Uploads"]
