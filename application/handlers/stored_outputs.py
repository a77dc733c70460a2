"""Use case: send a delivered transcript again in another output mode, from what is stored.

Why this exists: a long recording answered as plain text carries buttons for its text with
times and its subtitles (``domain.outputs.offers_stored_outputs``). The job kept the
recognizer's timed segments, so the other output is made from them: nothing is fetched,
recognized or charged again, and the job itself is left as it is (its record, its minutes
and its delivered status are not touched). The buttons may be seen by others (in a
group), so only the job's owner may use them.
"""

from __future__ import annotations

import logging
from enum import StrEnum

import attrs

from application.commands import SendStoredOutput
from application.ports import JobRepository, Messenger
from domain.jobs import JobStatus
from domain.outputs import STORED_OUTPUTS, has_times

log = logging.getLogger(__name__)


class StoredOutputResult(StrEnum):
    SENT = "sent"
    NOT_YOURS = "not_yours"  # pressed by someone other than the job's owner
    UNAVAILABLE = "unavailable"  # no such delivered job, or its transcript kept no times


class StoredOutputs:
    def __init__(self, jobs: JobRepository, messenger: Messenger) -> None:
        self._jobs = jobs
        self._messenger = messenger

    async def __call__(self, command: SendStoredOutput) -> StoredOutputResult:
        """Raises DeliveryFailed when the answer could not be sent (the tap may be retried:
        it sends the output again, and changes nothing stored)."""
        job = await self._jobs.get(command.job_id)
        if job is None or command.mode not in STORED_OUTPUTS:
            return StoredOutputResult.UNAVAILABLE
        if job.user_id != command.user_id:
            log.info("user %s pressed job %s's button", command.user_id, job.job_id)
            return StoredOutputResult.NOT_YOURS
        if job.status is not JobStatus.DELIVERED or not job.transcript:
            return StoredOutputResult.UNAVAILABLE
        if not has_times(job.recognized):  # stored before segments were kept
            return StoredOutputResult.UNAVAILABLE
        # A copy answered in the other mode: a fresh answer (no parts sent, no status to
        # drop), never saved, so the stored job stays exactly as it was delivered.
        again = attrs.evolve(
            job,
            style=attrs.evolve(job.style, output=command.mode),
            parts_sent=0,
            status_message_id=None,
            events=[],
        )
        await self._messenger.deliver(again, job.transcript)
        return StoredOutputResult.SENT
