"""Use case: an action on a delivered transcript (summary, action items, translation).

Why this exists: the buttons under a result work on the stored transcript: nothing is
fetched or recognized again. A result is made once and kept with the transcript
(``ActionResultRepository``), so pressing the same button again answers from the store,
free. Its minutes (``domain.transcript_actions.action_minutes``) are booked like a
recording's: reserved before the model is asked (under one reservation per result), then
committed once the result is stored, or released when no model could answer; a press that
finds the result stored while its reservation is still held (the process died between the
two writes) commits it, so a result is charged exactly once.

The buttons carry an opaque handle, never the job's id; the handle is looked up among the
presser's own recent transcripts only, so nobody can act on another user's transcript
(a job of someone else is simply not found). Without a language model only the summary is
offered, made by sentence scoring (``domain.extractive_summary``) and marked as such.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import StrEnum

import attrs

from application.action_prompts import PROMPT_VERSION, action_prompt
from application.commands import RunTranscriptAction
from application.errors import FormattingFailed
from application.minutes import MinutesBook
from application.ports import ActionResultRepository, ActionWriter, Clock, JobRepository
from domain.errors import InsufficientMinutes
from domain.extractive_summary import extractive_summary
from domain.jobs import JobStatus, VoiceJob
from domain.ledger import MinutesAccount
from domain.transcript_actions import (
    EXTRACTIVE,
    NEEDS_MODEL,
    ActionRequest,
    ActionResult,
    TranscriptAction,
    action_handle,
    action_minutes,
    reservation_id,
)

log = logging.getLogger(__name__)

# How far back a user's transcripts are looked through for a button's handle.
RECENT_TRANSCRIPTS = 200
# A job whose text may be under a button: delivered, or being delivered (its text saved).
ANSWERED = frozenset({JobStatus.DELIVERED, JobStatus.PROCESSING})


class ActionStatus(StrEnum):
    DONE = "done"  # made now, and charged
    CACHED = "cached"  # answered from the store, free
    UNAVAILABLE = "unavailable"  # not the presser's transcript, or no longer stored
    NO_MODEL = "no_model"  # this action needs a language model, and none is configured
    NO_MINUTES = "no_minutes"
    FAILED = "failed"  # no model answered usably: nothing charged


@attrs.frozen
class ActionOutcome:
    status: ActionStatus
    result: ActionResult | None = None
    job: VoiceJob | None = None
    minutes: int = 0  # what this press charged
    price: int = 0  # what it would cost (told when the minutes are not enough)


class TranscriptActions:
    def __init__(
        self,
        *,
        jobs: JobRepository,
        results: ActionResultRepository,
        writers: Sequence[ActionWriter],
        minutes: MinutesBook,
        clock: Clock,
        minutes_per_30_min: int,
    ) -> None:
        self._jobs = jobs
        self._results = results
        self._writers = tuple(writers)
        self._minutes = minutes
        self._clock = clock
        self._rate = minutes_per_30_min

    @property
    def has_model(self) -> bool:
        """Whether the actions that need a language model can be offered."""
        return bool(self._writers)

    async def find(self, handle: str, user_id: int) -> VoiceJob | None:
        """The presser's transcript a button's handle names; ``None`` when it is someone
        else's, too old, or has no text."""
        for job in await self._jobs.list_by_user(user_id, RECENT_TRANSCRIPTS):
            if action_handle(job.job_id) == handle and job.user_id == user_id:
                # Its text is saved before it is sent, and the job marked delivered just
                # after: a quick press may come in between.
                if job.status in ANSWERED and job.transcript:
                    return job
                return None
        return None

    async def __call__(self, command: RunTranscriptAction) -> ActionOutcome:
        """Raises StorageError when the store fails (the minutes reserved for the press are
        released first), so the update is retried."""
        request = command.request
        job = await self.find(command.handle, command.user_id)
        if job is None:
            log.info("user %s pressed an action of a transcript not theirs", command.user_id)
            return ActionOutcome(ActionStatus.UNAVAILABLE)
        if request.action in NEEDS_MODEL and not self._writers:
            return ActionOutcome(ActionStatus.NO_MODEL, job=job)
        booking = reservation_id(job.job_id, request)
        stored = await self._results.get(job.job_id, request.key)
        if stored is not None:
            # Free, and the account not even written, unless the press that made it died
            # before committing its minutes.
            account = await self._minutes.account(job.user_id)
            charged = 0
            if account is not None and account.holds(booking):
                charged = await self._minutes.settle(job.user_id, booking, commit=True)
            status = ActionStatus.DONE if charged else ActionStatus.CACHED
            return ActionOutcome(status, stored, job, charged)
        price = action_minutes(job.duration_seconds, self._rate)
        try:
            await self._minutes.change(
                job.user_id, lambda account: _reserve(account, booking, price)
            )
        except InsufficientMinutes:
            return ActionOutcome(ActionStatus.NO_MINUTES, job=job, price=price)
        try:
            result = await self._make(job, request)
            if result is None:
                await self._minutes.settle(job.user_id, booking, commit=False)
                return ActionOutcome(ActionStatus.FAILED, job=job)
            if not await self._results.add(result):  # another press stored it first
                result = await self._results.get(job.job_id, request.key) or result
        except BaseException:
            await self._minutes.settle(job.user_id, booking, commit=False)
            raise
        charged = await self._minutes.settle(job.user_id, booking, commit=True)
        return ActionOutcome(ActionStatus.DONE, result, job, charged)

    async def _make(self, job: VoiceJob, request: ActionRequest) -> ActionResult | None:
        text = job.transcript or ""
        if not self._writers:  # offline: only the summary comes here
            return self._result(job, request, extractive_summary(text), EXTRACTIVE)
        instructions = action_prompt(request, job.language)
        in_pieces = request.action is TranscriptAction.TRANSLATE
        for writer in self._writers:
            try:
                answer = await writer.write(instructions, text, in_pieces=in_pieces)
            except FormattingFailed as error:
                log.warning(
                    "%s could not %s job %s: %s", writer.name, request.key, job.job_id, error
                )
                continue
            return self._result(job, request, answer, writer.name)
        return None

    def _result(
        self, job: VoiceJob, request: ActionRequest, text: str, provider: str
    ) -> ActionResult:
        return ActionResult(
            job_id=job.job_id,
            key=request.key,
            user_id=job.user_id,
            text=text,
            provider=provider,
            prompt_version=PROMPT_VERSION,
            created_at=self._clock.now(),
        )


def _reserve(account: MinutesAccount, booking: str, minutes: int) -> None:
    """Reserve once: a press while another press of the same button is still working
    shares its reservation (charged once when either stores the result)."""
    if not account.holds(booking):
        account.reserve(booking, minutes)
