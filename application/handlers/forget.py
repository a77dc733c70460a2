"""Use case: ``/forget``, a user's transcripts, cached results and settings erased at once.

Why this exists: a user must be able to take their words back. Every finished job of the
user whose minutes are settled goes (``domain.retention.may_erase``): its text, its
segments, and with them the transcript cache's entry for the file, so the same file sent
again is recognized (and charged) anew. A job still at work is left to finish; asking
again afterwards erases it too. Settings go back to the defaults. The minutes account and
the payment records stay: the law and refunds need them, and the answer says so.
"""

from __future__ import annotations

import attrs

from application.commands import ForgetUserData
from application.ports import AccountRepository, JobRepository, UserDataEraser
from domain.retention import has_transcript, may_erase

BATCH = 500  # a user's jobs read per round, newest first
MAX_ROUNDS = 100  # bounds one request: 50,000 jobs


@attrs.frozen
class Forgotten:
    """What ``/forget`` erased: ``transcripts`` (texts the user got), ``records`` (every
    job erased, those included), whether there were settings, and how many jobs still at
    work were left alone."""

    transcripts: int
    records: int
    settings: bool
    in_progress: int


class ForgetUser:
    def __init__(
        self, *, jobs: JobRepository, accounts: AccountRepository, eraser: UserDataEraser
    ) -> None:
        self._jobs = jobs
        self._accounts = accounts
        self._eraser = eraser

    async def __call__(self, command: ForgetUserData) -> Forgotten:
        transcripts = records = in_progress = 0
        for _ in range(MAX_ROUNDS):
            jobs = await self._jobs.list_by_user(command.user_id, BATCH)
            # Read after the jobs: a job listed finished whose minutes are not committed
            # yet is then still held in this account.
            account = await self._accounts.get(command.user_id)
            held = frozenset(account.reservations) if account is not None else frozenset()
            erasable = [job for job in jobs if may_erase(job, held)]
            in_progress = len(jobs) - len(erasable)
            texts = [job for job in erasable if has_transcript(job)]
            others = [job for job in erasable if not has_transcript(job)]
            erased_texts = await self._eraser.erase_jobs(texts) if texts else 0
            erased = erased_texts + (await self._eraser.erase_jobs(others) if others else 0)
            transcripts += erased_texts
            records += erased
            if erased == 0 or len(jobs) < BATCH:
                break
        settings = await self._eraser.erase_settings(command.user_id)
        return Forgotten(transcripts, records, settings, in_progress)
