"""Use case: a user sent audio. Dedupe, price, reserve minutes, store, then process or queue.

The job is stored before minutes are reserved under its id, so a crash in between leaves
a visible job and never an orphan reservation. Audio up to the sync threshold is processed
at once; longer audio goes to the durable queue for a worker.

The same request met again (a replayed update) is a duplicate while its job is finished,
held by a live lease, or waiting for its queue message; a job that is stuck
(``domain.recovery.standing``: left behind by a process that died) is resumed instead:
processed now if short, queued again if long. The minutes stay reserved under the job's
id, so a resumed job is charged once.
"""

from __future__ import annotations

import logging

import attrs

from application.bus import Outbox
from application.commands import AcceptVoiceNote, ProcessJob
from application.errors import (
    AudioUnreadable,
    DeliveryFailed,
    EmptyAudio,
    FileTooLarge,
    FileUnavailable,
    QueueError,
)
from application.failures import notice_for
from application.handlers.process_job import ProcessJobHandler
from application.minutes import MinutesBook
from application.notices import Notice, NoticeReason
from application.ports import (
    AudioConverter,
    Clock,
    FileSource,
    JobQueue,
    JobRepository,
    Messenger,
)
from application.reports import Acceptance, AcceptOutcome, JobReport, RetryLater
from domain.catalogue import low_balance_crossed
from domain.errors import InsufficientMinutes
from domain.events import VoiceAccepted
from domain.jobs import JobStatus, OutputMode, UserStyle, VoiceJob
from domain.ledger import MinutesAccount
from domain.policies import (
    ProcessingMode,
    TranscriptionPolicy,
    price_minutes,
    processing_mode,
    too_long_unmeasured,
)
from domain.recovery import JobStanding, standing

log = logging.getLogger(__name__)


class AcceptVoiceHandler:
    def __init__(
        self,
        *,
        jobs: JobRepository,
        queue: JobQueue,
        files: FileSource,
        converter: AudioConverter,
        minutes: MinutesBook,
        process: ProcessJobHandler,
        messenger: Messenger,
        outbox: Outbox,
        clock: Clock,
        policy: TranscriptionPolicy,
        low_balance_minutes: int = 5,
        retry_inline_through_queue: bool = True,
        stale_after_seconds: float = 180.0,
        recognizer_gives_times: bool = False,
    ) -> None:
        """``stale_after_seconds``: how long a queued job may sit untouched before a replay
        of its request takes it for stuck (its message lost) and queues it again.
        ``recognizer_gives_times``: every stored transcript then has fine times, so one made
        for plain text serves a request for subtitles from the cache too."""
        self._jobs = jobs
        self._queue = queue
        self._files = files
        self._converter = converter
        self._minutes = minutes
        self._process = process
        self._messenger = messenger
        self._outbox = outbox
        self._clock = clock
        self._policy = policy
        self._low_balance_minutes = low_balance_minutes
        self._retry_inline_through_queue = retry_inline_through_queue
        self._stale_after_seconds = stale_after_seconds
        self._recognizer_gives_times = recognizer_gives_times

    async def __call__(self, command: AcceptVoiceNote) -> AcceptOutcome:
        known = await self._jobs.get(command.request_id)
        if known is not None:
            return await self._meet_again(known)
        cached = await self._jobs.find_transcript(
            command.source.file_unique_id, self._style_to_look_up(command.style)
        )
        if cached is not None and cached.transcript:
            return await self._answer_from_cache(command, cached)
        duration = command.source.duration_seconds
        if duration is None or duration > self._policy.max_audio_seconds:
            # The claimed length is the sender's word: "too long" is decided by measuring,
            # unless the claim is far beyond the limit and the file's size agrees.
            source, limit = command.source, self._policy.max_audio_seconds
            if too_long_unmeasured(duration, source.file_size, limit):
                notice = Notice(NoticeReason.TOO_LONG, limit_seconds=limit)
                return AcceptOutcome(Acceptance.REJECTED, notice=notice)
            try:
                duration = await self._measure(command)
            except (FileTooLarge, FileUnavailable, AudioUnreadable) as error:
                return AcceptOutcome(Acceptance.REJECTED, notice=notice_for(error))
        if duration > self._policy.max_audio_seconds:
            notice = Notice(NoticeReason.TOO_LONG, limit_seconds=self._policy.max_audio_seconds)
            return AcceptOutcome(Acceptance.REJECTED, notice=notice)
        job = self._new_job(command, duration)
        if not await self._jobs.add(job):
            return AcceptOutcome(Acceptance.DUPLICATE, job.job_id)
        if job.reserved_minutes > 0:
            refusal = await self._reserve(job)
            if refusal is not None:
                return refusal
        job.events.append(VoiceAccepted(job.job_id, job.user_id, duration, job.reserved_minutes))
        self._outbox.collect(job)
        mode = processing_mode(duration, self._policy.sync_threshold_seconds)
        if mode is ProcessingMode.INLINE and command.defer_seconds <= 0:
            return await self._process_now(job)
        job.queue(self._clock.now())
        await self._save(job)
        return await self._put_on_queue(job, command.defer_seconds)

    async def _meet_again(self, job: VoiceJob) -> AcceptOutcome:
        """A request seen before: a duplicate, unless its job is stuck, then resumed."""
        now = self._clock.now()
        where = standing(job, now, self._stale_after_seconds)
        if where is JobStanding.WAITING and await self._queue.position(job.job_id) is None:
            # Its queue message may never have been sent (the process died between saving
            # the job as queued and sending it), or the queue cannot tell (MNS): one more
            # is harmless, none strands the job. A queue error propagates, so the update
            # is tried again later.
            await self._queue.enqueue(job.job_id)
            position = await self._queue.position(job.job_id)
            return AcceptOutcome(Acceptance.QUEUED, job.job_id, queue_position=position)
        if where is not JobStanding.STUCK:
            return AcceptOutcome(Acceptance.DUPLICATE, job.job_id)
        log.warning("resuming stuck job %s (%s)", job.job_id, job.status.value)
        if job.reserved_minutes > 0:
            refusal = await self._reserve(job, again=True)
            if refusal is not None:
                return refusal
        if processing_mode(job.duration_seconds, self._policy.sync_threshold_seconds) is (
            ProcessingMode.INLINE
        ):
            return await self._process_now(job)
        if job.status is JobStatus.ACCEPTED:
            job.queue(now)
            await self._save(job)
        return await self._put_on_queue(job)

    async def _process_now(self, job: VoiceJob) -> AcceptOutcome:
        try:
            report = await self._process(ProcessJob(job.job_id))
        except RetryLater as later:
            if not self._retry_inline_through_queue:
                report = await self._process.give_up(job.job_id)
                return AcceptOutcome(Acceptance.PROCESSED, job.job_id, report.notice, report)
            # A provider hiccup (or outage, or another worker on it): the worker tries again
            # from the queue, after the wait asked for; the user waits.
            stored = await self._jobs.get(job.job_id)
            return await self._put_on_queue(stored or job, later.delay_seconds or 0.0)
        return AcceptOutcome(Acceptance.PROCESSED, job.job_id, report.notice, report)

    def _style_to_look_up(self, style: UserStyle) -> UserStyle:
        """The style a cached transcript must serve: with a recognizer that gives times,
        any transcript of the same text has times fine enough for every output."""
        if self._recognizer_gives_times and style.output.needs_times:
            return attrs.evolve(style, output=OutputMode.MESSAGES)
        return style

    async def _answer_from_cache(self, command: AcceptVoiceNote, cached: VoiceJob) -> AcceptOutcome:
        """The same file with the same settings: the stored text at once, free of charge."""
        job = self._new_job(attrs.evolve(command, charge=False), cached.duration_seconds)
        if not await self._jobs.add(job):
            return AcceptOutcome(Acceptance.DUPLICATE, job.job_id)
        job.start(self._clock.now())
        job.segments = cached.segments  # its times too: subtitles need no new recognition
        await self._messenger.deliver(job, cached.transcript or "")
        job.deliver(cached.transcript or "", cached.language, self._clock.now())
        await self._save(job)
        report = JobReport(
            job.job_id, job.status, job.duration_seconds, job.transcript, job.language, "cache"
        )
        return AcceptOutcome(Acceptance.CACHED, job.job_id, report=report)

    async def _measure(self, command: AcceptVoiceNote) -> float:
        audio = await self._files.fetch(command.source)
        if not audio:
            raise EmptyAudio("empty file")
        return (await self._converter.probe(audio)).duration_seconds

    def _new_job(self, command: AcceptVoiceNote, duration: float) -> VoiceJob:
        now = self._clock.now()
        return VoiceJob(
            job_id=command.request_id,
            user_id=command.user_id,
            chat_id=command.chat_id,
            source=command.source,
            duration_seconds=duration,
            reserved_minutes=price_minutes(duration) if command.charge else 0,
            style=command.style,
            created_at=now,
            updated_at=now,
            reply_to_message_id=command.reply_to_message_id,
            status_message_id=command.status_message_id,
        )

    async def _reserve(self, job: VoiceJob, *, again: bool = False) -> AcceptOutcome | None:
        """Reserve the job's minutes under its id; ``again`` (a resumed job): only if they
        are not reserved already (a process may have died before reserving them)."""

        def reserve(account: MinutesAccount) -> tuple[int, int]:
            before = account.balance
            if not (again and account.holds(job.reservation_id)):
                account.reserve(job.reservation_id, job.reserved_minutes)
            return before, account.balance

        try:
            before, after = await self._minutes.change(job.user_id, reserve)
        except InsufficientMinutes as refusal:
            job.fail("insufficient minutes", self._clock.now(), caused_by_user=True)
            await self._save(job)
            notice = Notice(
                NoticeReason.INSUFFICIENT_MINUTES,
                needed_minutes=refusal.needed,
                balance_minutes=refusal.balance,
            )
            return AcceptOutcome(Acceptance.REJECTED, job.job_id, notice)
        if low_balance_crossed(before, after, self._low_balance_minutes):
            low = Notice(NoticeReason.LOW_BALANCE, balance_minutes=after)
            try:
                await self._messenger.notify(job, low)
            except DeliveryFailed:
                log.info("low-balance notice for job %s not delivered", job.job_id)
        return None

    async def _put_on_queue(self, job: VoiceJob, delay_seconds: float = 0.0) -> AcceptOutcome:
        try:
            await self._queue.enqueue(job.job_id, delay_seconds)
        except QueueError:
            log.exception("could not queue job %s", job.job_id)
            if job.reserved_minutes > 0:
                await self._minutes.settle(job.user_id, job.reservation_id, commit=False)
            job.fail("queue unavailable", self._clock.now())
            await self._save(job)
            return AcceptOutcome(Acceptance.REJECTED, job.job_id, Notice(NoticeReason.SERVICE_BUSY))
        position = await self._queue.position(job.job_id)
        return AcceptOutcome(Acceptance.QUEUED, job.job_id, queue_position=position)

    async def _save(self, job: VoiceJob) -> None:
        await self._jobs.save(job)
        self._outbox.collect(job)
