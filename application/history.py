"""Read model for the Mini App's History tab: a user's recent transcripts, and one of them
as text and, where its segments carry times, as subtitles. Only the owner's jobs: another
user's job id reads as unknown."""

from __future__ import annotations

import attrs

from application.ports import JobRepository
from domain.jobs import JobStatus, VoiceJob
from domain.outputs import has_times
from domain.subtitle_files import srt
from domain.subtitles import cues

FIRST_WORDS = 12


@attrs.frozen
class HistoryEntry:
    job_id: str
    created_at: float
    duration_seconds: float
    status: str
    first_words: str
    file_name: str | None


@attrs.frozen
class StoredTranscript:
    entry: HistoryEntry
    text: str
    srt: str | None


def _entry(job: VoiceJob) -> HistoryEntry:
    words = (job.transcript or "").split()
    first = " ".join(words[:FIRST_WORDS]) + (" …" if len(words) > FIRST_WORDS else "")
    return HistoryEntry(
        job_id=job.job_id,
        created_at=job.created_at,
        duration_seconds=job.duration_seconds,
        status=job.status.value,
        first_words=first,
        file_name=job.source.file_name,
    )


class TranscriptHistory:
    def __init__(self, jobs: JobRepository) -> None:
        self._jobs = jobs

    async def recent(self, user_id: int, limit: int = 50) -> list[HistoryEntry]:
        jobs = await self._jobs.list_by_user(user_id, limit)
        return [_entry(job) for job in sorted(jobs, key=lambda j: j.created_at, reverse=True)]

    async def transcript(self, user_id: int, job_id: str) -> StoredTranscript | None:
        job = await self._jobs.get(job_id)
        if job is None or job.user_id != user_id or job.status is not JobStatus.DELIVERED:
            return None
        recognized = job.recognized
        subtitles = srt(cues(recognized, job.duration_seconds)) if has_times(recognized) else None
        return StoredTranscript(_entry(job), job.transcript or "", subtitles)
