"""Use case: turn a stored job's audio into delivered text, exactly once.

Claim the job (a finished job is left alone, so redelivery is harmless), fetch, convert
and recognize, format, deliver, then commit the reserved minutes and mark it delivered.
Any failure releases exactly the reserved minutes and tells the user in plain words; a
transient failure of a queued job is left for the queue to deliver again while attempts
remain.

The claim is a lease, renewed while the job runs (a version-checked save: a renewal that
finds the job changed by someone else stops instead of overwriting them), so a short
lease suffices and a dead worker's job is taken again soon. A job met under someone
else's live lease is put back for the lease's remaining time, and a job whose recognizer
is down (429, 5xx, timeouts) waits the outage out (``domain.recovery.outage_delay``),
its owner told once; neither wait counts as an attempt.

The user may stop the job (``handlers/stop_job.py`` marks it ``stopping``). While it is
recognized, the worker reads the job's state after every chunk and every
``stop_poll_seconds`` (and is told at once in the process that took the tap): once it
is stopping, no further chunk is sent, chunks in flight are abandoned, the chunks
recognized are delivered and charged by ``domain.cancellation`` (nothing when none
were), and the job ends ``cancelled``. A stop that comes once the whole text is made
changes nothing. While recognizing a recording of several chunks, progress carries the
draft and the ETA (``application.live_progress``); each recording's pace is folded into
the recognizer's learned throughput (``application.throughput``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import attrs

from application.bus import Outbox
from application.commands import ProcessJob
from application.errors import (
    AudioUnreadable,
    ConcurrentUpdate,
    DeliveryFailed,
    EmptyAudio,
    FileTooLarge,
    RecognitionFailed,
    StorageError,
)
from application.failures import is_transient, notice_for
from application.formatting import FormattedText, FormattingChain
from application.live_progress import LiveProgress
from application.minutes import MinutesBook
from application.notices import Notice, NoticeReason
from application.ports import (
    AudioConverter,
    Clock,
    FileSource,
    JobRepository,
    Messenger,
    Recognition,
)
from application.progress import Progress, Stage
from application.recognition import (
    ChunkedRecognition,
    ChunkRecognized,
    NotATranscript,
    RecognitionStopped,
)
from application.reports import JobReport, RetryLater
from application.stop_signals import StopSignals
from application.stopwatch import Stopwatch
from application.throughput import RememberedThroughput, ThroughputBook
from domain.cancellation import cancellation_minutes
from domain.errors import InsufficientMinutes, LeaseHeld
from domain.jobs import JobStatus, VoiceJob
from domain.ledger import MinutesAccount
from domain.policies import price_minutes
from domain.recovery import outage_delay
from domain.text import apply_yo_policy

log = logging.getLogger(__name__)


USER_CAUSED = frozenset(
    {
        NoticeReason.UNREADABLE,
        NoticeReason.EMPTY,
        NoticeReason.TOO_LONG,
        NoticeReason.INSUFFICIENT_MINUTES,
        NoticeReason.FILE_TOO_LARGE,
    }
)


class JobMissing(LookupError):
    """The command names a job that is not stored."""


class ProcessJobHandler:
    def __init__(
        self,
        *,
        jobs: JobRepository,
        files: FileSource,
        converter: AudioConverter,
        recognition: ChunkedRecognition,
        formatting: FormattingChain,
        messenger: Messenger,
        minutes: MinutesBook,
        outbox: Outbox,
        clock: Clock,
        max_attempts: int = 3,
        max_audio_seconds: float = 3 * 3600.0,
        lease_seconds: float = 60.0,
        lease_renewal_seconds: float | None = None,
        provider_outage_seconds: float = 1800.0,
        stop_signals: StopSignals | None = None,
        stop_poll_seconds: float = 2.0,
        throughput: ThroughputBook | None = None,
    ) -> None:
        """``lease_renewal_seconds``: how often a running job's lease is renewed (default a
        third of the lease); ``provider_outage_seconds``: how long a job waits for an
        unavailable recognizer before it fails."""
        self._jobs = jobs
        self._files = files
        self._converter = converter
        self._recognition = recognition
        self._formatting = formatting
        self._messenger = messenger
        self._minutes = minutes
        self._outbox = outbox
        self._clock = clock
        self._max_attempts = max_attempts
        self._max_audio_seconds = max_audio_seconds
        self._lease_seconds = lease_seconds
        self._renew_every = lease_renewal_seconds or lease_seconds / 3
        self._outage_seconds = provider_outage_seconds
        self._saving: dict[str, asyncio.Lock] = {}  # running jobs: their saves in turn
        self._stop_signals = stop_signals or StopSignals()
        self._stop_poll_seconds = stop_poll_seconds
        self._throughput = throughput or ThroughputBook(RememberedThroughput(), "asr")

    async def __call__(self, command: ProcessJob) -> JobReport:
        job = await self._jobs.get(command.job_id)
        if job is None:
            raise JobMissing(command.job_id)
        if job.status is JobStatus.CANCELLED:
            # Stopped: settle what an earlier attempt may have left open (idempotent).
            await self._minutes.settle_part(job.user_id, job.reservation_id, job.reserved_minutes)
            return _report(job)
        if job.status.is_finished:
            # Settle what an earlier attempt may have left open (idempotent).
            await self._minutes_settle(job, commit=job.status is JobStatus.DELIVERED)
            return _report(job)
        now = self._clock.now()
        if job.status is JobStatus.STOPPING and not job.holds_lease(now):
            return await self._end_orphaned_stop(job)
        if job.holds_lease(now) and job.lease_expires_at is not None:
            # Someone is on it: come back when the lease would run out. Not an attempt,
            # and not a delivery of this message either (a fresh one is queued).
            raise RetryLater(
                f"job {job.job_id} is held by another worker",
                delay_seconds=job.lease_expires_at - now,
            )
        if job.attempts >= self._max_attempts or command.delivery_count > self._max_attempts + 2:
            # A poison message: tried enough (or delivered again and again without ever
            # being claimed). Settle it for good instead of letting it circle forever.
            return await self._fail(job, Notice(NoticeReason.SERVICE_BUSY), "attempts exhausted")
        try:
            job.start(self._clock.now(), self._lease_seconds)
            await self._save(job)
        except (LeaseHeld, ConcurrentUpdate):
            raise RetryLater(
                f"job {job.job_id} is being processed by another worker",
                delay_seconds=self._lease_seconds,
            ) from None
        saving = self._saving[job.job_id] = asyncio.Lock()
        stop_renewing = asyncio.Event()
        renewing = asyncio.create_task(self._keep_lease(job, saving, stop_renewing))
        try:
            return await self._run_claimed(job, stop_renewing, renewing)
        finally:
            stop_renewing.set()
            await asyncio.shield(renewing)
            self._saving.pop(job.job_id, None)

    async def _run_claimed(
        self, job: VoiceJob, stop_renewing: asyncio.Event, renewing: asyncio.Task[None]
    ) -> JobReport:
        try:
            return await self._transcribe(job)
        except asyncio.CancelledError:
            # Shutting down mid-job: give the claim back so the redelivered message is
            # taken at once instead of after the lease.
            stop_renewing.set()
            await asyncio.shield(renewing)
            job.release_lease()
            await asyncio.shield(self._save(job))
            raise
        except Exception as error:
            stop_renewing.set()
            await renewing
            if job.status is JobStatus.DELIVERED:
                # The text is out: never send it again, never release what it costs. The
                # redelivered message finds the job finished and settles its minutes.
                log.warning("job %s delivered; settling later: %s", job.job_id, error)
                raise RetryLater(f"settle job {job.job_id} later") from error
            if isinstance(error, RecognitionFailed) and error.transient:
                return await self._wait_for_provider(job, error)
            if is_transient(error) and job.attempts < self._max_attempts:
                log.warning(
                    "job %s attempt %d: %s; retrying later", job.job_id, job.attempts, error
                )
                job.release_lease()
                await self._save(job)
                raise RetryLater(str(error)) from error
            if isinstance(error, AudioUnreadable | FileTooLarge):
                log.info("job %s: the user's file is unusable: %s", job.job_id, error)
            else:
                log.exception("job %s failed", job.job_id)
            blocked = isinstance(error, DeliveryFailed) and not error.transient  # the user's doing
            return await self._fail(
                job, notice_for(error), f"{type(error).__name__}: {error}", caused_by_user=blocked
            )

    async def _wait_for_provider(self, job: VoiceJob, error: RecognitionFailed) -> JobReport:
        """The recognizer is unavailable: wait (put back with a growing delay, the owner
        told once) until the outage has lasted ``provider_outage_seconds``, then fail."""
        now = self._clock.now()
        delay = outage_delay(job.outage_since, now, self._outage_seconds)
        if delay is None:
            log.warning("job %s: the recognizer stayed unavailable; giving up", job.job_id)
            return await self._fail(
                job, Notice(NoticeReason.SERVICE_BUSY), f"provider unavailable: {error}"
            )
        first = job.wait_for_provider(now)
        await self._save(job)
        log.warning("job %s: recognizer unavailable (%s); next try in %.0fs", job.job_id,
                    error, delay)  # fmt: skip
        if first:
            try:
                await self._messenger.notify(job, Notice(NoticeReason.DELAYED))
            except DeliveryFailed:
                log.info("could not tell the owner of job %s it is delayed", job.job_id)
        raise RetryLater(f"recognizer unavailable: {error}", delay_seconds=delay) from error

    async def _keep_lease(self, job: VoiceJob, saving: asyncio.Lock, stop: asyncio.Event) -> None:
        """Renew the job's lease every ``lease_renewal_seconds`` until ``stop``. Each renewal
        is a version-checked save taken in turn with the job's other saves; one that finds
        the job changed by someone else stops renewing and overwrites nothing."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._renew_every)
            if stop.is_set():
                return
            async with saving:
                if stop.is_set() or not job.renew_lease(self._clock.now(), self._lease_seconds):
                    return
                try:
                    await self._jobs.save(job)
                except ConcurrentUpdate:
                    if await self._adopt_stop(job):
                        continue  # the user pressed Stop: the job is still ours to end
                    log.warning("job %s changed under its worker; lease not renewed", job.job_id)
                    return
                except StorageError:
                    log.warning("renewing the lease of job %s failed; trying again later",
                                job.job_id, exc_info=True)  # fmt: skip

    async def give_up(
        self, job_id: str, reason: str = "gave up after a retry", *, by_owner: bool = False
    ) -> JobReport:
        """Fail an unfinished job for good (no retry will come), releasing its minutes and
        telling its owner; the sweeper and the owner's ``/flush`` both end jobs here."""
        job = await self._jobs.get(job_id)
        if job is None:
            raise JobMissing(job_id)
        if job.status.is_finished:
            return _report(job)
        notice = Notice(NoticeReason.SERVICE_BUSY)
        return await self._fail(job, notice, reason, caused_by_user=by_owner)

    async def _transcribe(self, job: VoiceJob) -> JobReport:
        watch = Stopwatch(self._clock)
        formatter = "stored"
        if job.transcript is None:
            # Not recognized yet. (A stored transcript means an earlier attempt died between
            # saving it and delivering it: deliver it now, without paying for ASR again.)
            await self._progress(job, Progress(Stage.CONVERTING))
            with watch.stage("fetch"):
                audio = await self._files.fetch(job.source)
            if not audio:
                raise EmptyAudio("the file is empty")
            with watch.stage("probe"):
                duration = (await self._converter.probe(audio)).duration_seconds
            refusal = await self._reprice(job, duration)
            if refusal is not None:
                return await self._fail(job, refusal, refusal.reason.value, caused_by_user=True)
            try:
                heard, formatted = await self._recognize_and_format(job, audio, watch)
            except RecognitionStopped as stopped:
                return await self._end_stopped(job, stopped, watch)
            except NotATranscript as error:
                # A loop or a hallucination even in the user's language: not charged.
                log.warning("job %s: %s", job.job_id, error)
                notice = Notice(NoticeReason.NOT_A_TRANSCRIPT)
                return await self._fail(job, notice, f"NotATranscript: {error}")
            if heard is None or formatted is None:
                return await self._finish_without_speech(job, watch)
            job.transcript = apply_yo_policy(formatted.text, job.style.use_yo)
            job.segments = heard.segments  # saved with the text: times for subtitles
            job.language, formatter = heard.language, formatted.formatter
            await self._save(job)
        with watch.stage("deliver"):
            await self._messenger.deliver(job, job.transcript)
        job.deliver(job.transcript, job.language, self._clock.now())
        await self._save_delivered(job)
        await self._minutes_settle(job, commit=True)
        return _report(job, timings=watch.timings, formatter=formatter)

    async def _save_delivered(self, job: VoiceJob, attempts: int = 5) -> None:
        """Record that the text went out, trying hard: until it is recorded, a redelivery
        would send the text a second time."""
        for attempt in range(1, attempts + 1):
            try:
                await self._save(job)
                return
            except ConcurrentUpdate:
                raise  # someone else settled the job meanwhile: do not overwrite them
            except StorageError as error:
                if not error.transient or attempt == attempts:
                    raise
                await asyncio.sleep(0.2 * 2**attempt)

    async def _recognize_and_format(
        self, job: VoiceJob, audio: bytes, watch: Stopwatch
    ) -> tuple[Recognition | None, FormattedText | None]:
        await self._progress(job, Progress(Stage.RECOGNIZING))
        started = self._clock.monotonic()
        live = LiveProgress(job.duration_seconds, await self._throughput.rate(), started)
        several = self._recognition.chunked(
            job.duration_seconds, times_wanted=job.style.output.needs_times
        )
        stop = asyncio.Event()
        check_now = asyncio.Event()

        async def chunk_recognized(chunk: ChunkRecognized) -> None:
            check_now.set()  # between chunks: has the user pressed Stop?
            if several:
                await self._progress(job, live.chunk_recognized(chunk, self._clock.monotonic()))

        async def chunk_done(done: int, total: int) -> None:
            if total > 1:
                await self._progress(job, live.chunks_done(done, total, self._clock.monotonic()))

        watching = asyncio.create_task(self._watch_for_stop(job, stop, check_now))
        try:
            with watch.stage("recognize"), self._stop_signals.running(job.job_id, stop):
                heard = await self._recognition.recognize(
                    audio,
                    job.duration_seconds,
                    job.style.language,
                    chunk_done,
                    language_hint=job.style.ui_language,
                    times_wanted=job.style.output.needs_times,
                    on_chunk=chunk_recognized,
                    stop=stop,
                )
        finally:
            watching.cancel()
            await asyncio.wait([watching])  # never raises: our own cancellation stays ours
        await self._throughput.measured(self._clock.monotonic() - started, job.duration_seconds)
        if not heard.text:
            return None, None
        await self._progress(job, Progress(Stage.FORMATTING))
        with watch.stage("format"):
            formatted = await self._formatting.format(heard.text, job.style)
        return heard, formatted

    async def _finish_without_speech(self, job: VoiceJob, watch: Stopwatch) -> JobReport:
        await self._minutes_settle(job, commit=False)
        job.find_no_speech(self._clock.now())
        await self._save(job)
        await self._messenger.notify(job, Notice(NoticeReason.NO_SPEECH))
        return _report(job, Notice(NoticeReason.NO_SPEECH), watch.timings)

    async def _reprice(self, job: VoiceJob, duration: float) -> Notice | None:
        """Trust the measured duration, not the sender's: refuse audio over the limit and
        resize the reservation to what the audio really costs before anything is charged."""
        if duration > self._max_audio_seconds:
            return Notice(NoticeReason.TOO_LONG, limit_seconds=self._max_audio_seconds)
        job.duration_seconds = duration
        price = price_minutes(duration)
        if job.reserved_minutes in (0, price):
            return None

        def resize(account: MinutesAccount) -> None:
            account.resize(job.reservation_id, price)

        try:
            await self._minutes.change(job.user_id, resize)
        except InsufficientMinutes as refusal:
            return Notice(
                NoticeReason.INSUFFICIENT_MINUTES,
                needed_minutes=price,
                balance_minutes=refusal.balance,
            )
        job.reserved_minutes = price
        return None

    async def _fail(
        self, job: VoiceJob, notice: Notice, reason: str, *, caused_by_user: bool = False
    ) -> JobReport:
        released = await self._minutes_settle(job, commit=False)
        caused_by_user = caused_by_user or notice.reason in USER_CAUSED
        job.fail(reason, self._clock.now(), caused_by_user=caused_by_user)
        await self._save(job)
        try:
            await self._messenger.notify(job, notice)
        except DeliveryFailed:
            log.warning("could not tell the owner of job %s why it failed", job.job_id)
        return attrs.evolve(_report(job, notice), released_minutes=released)

    async def _minutes_settle(self, job: VoiceJob, *, commit: bool) -> int:
        """Commit or release the job's reservation; returns the minutes released."""
        if job.reserved_minutes > 0:
            return await self._minutes.settle(job.user_id, job.reservation_id, commit=commit)
        return 0

    async def _save(self, job: VoiceJob) -> None:
        try:
            await self._save_once(job)
        except ConcurrentUpdate:
            if not await self._adopt_stop(job):
                raise
            await self._save_once(job)  # the user pressed Stop meanwhile: that is all
        self._outbox.collect(job)

    async def _save_once(self, job: VoiceJob) -> None:
        saving = self._saving.get(job.job_id)
        if saving is None:
            await self._jobs.save(job)
        else:
            async with saving:  # never at once with a renewal of the same job's lease
                await self._jobs.save(job)

    async def _adopt_stop(self, job: VoiceJob) -> bool:
        """The stored job moved on under its worker: when the only change is the user's
        Stop (``handlers/stop_job.py``), take it in (status and version) and say so."""
        try:
            stored = await self._jobs.get(job.job_id)
        except StorageError:
            return False
        if (
            stored is None
            or stored.status is not JobStatus.STOPPING
            or job.status not in (JobStatus.PROCESSING, JobStatus.STOPPING)
            or stored.attempts != job.attempts
        ):
            return False
        job.status, job.version = JobStatus.STOPPING, stored.version
        return True

    async def _watch_for_stop(
        self, job: VoiceJob, stop: asyncio.Event, check_now: asyncio.Event
    ) -> None:
        """Read the job's state after each chunk and every ``stop_poll_seconds``; set
        ``stop`` once the user pressed Stop (in whichever process the tap landed)."""
        while not stop.is_set():
            if not check_now.is_set():
                waiting = asyncio.ensure_future(check_now.wait())
                try:
                    await asyncio.wait([waiting], timeout=self._stop_poll_seconds)
                finally:
                    waiting.cancel()
            check_now.clear()
            try:
                stored = await self._jobs.get(job.job_id)
            except StorageError:
                log.warning("job %s: its state not read; next poll later", job.job_id)
                continue
            if stored is not None and stored.status in (JobStatus.STOPPING, JobStatus.CANCELLED):
                stop.set()

    async def _end_stopped(
        self, job: VoiceJob, stopped: RecognitionStopped, watch: Stopwatch
    ) -> JobReport:
        """The user pressed Stop mid-recognition: deliver what was recognized, charge it
        (``domain.cancellation``), end the job ``cancelled``. The text and the charge are
        saved first, so a retry after a crash delivers and charges the same."""
        if job.status is JobStatus.PROCESSING:
            await self._adopt_stop(job)
        charge = cancellation_minutes(stopped.recognized_seconds, job.reserved_minutes)
        partial = stopped.partial
        if partial.text:
            job.transcript = apply_yo_policy(partial.text, job.style.use_yo)
            job.segments = partial.segments
            job.language = partial.language
        job.reserved_minutes = charge if partial.text else 0
        await self._save(job)
        log.info("job %s stopped: %.0f s recognized, %d min charged", job.job_id,
                 stopped.recognized_seconds, job.reserved_minutes)  # fmt: skip
        return await self._finish_cancelled(job, watch)

    async def _end_orphaned_stop(self, job: VoiceJob) -> JobReport:
        """A stopping job whose worker died: what it saved before (the partial text and
        its charge) is delivered and charged; nothing saved, nothing charged."""
        if job.transcript is None:
            job.reserved_minutes = 0
        return await self._finish_cancelled(job, Stopwatch(self._clock))

    async def _finish_cancelled(self, job: VoiceJob, watch: Stopwatch) -> JobReport:
        if job.transcript:
            with watch.stage("deliver"):
                await self._messenger.deliver(job, job.transcript)
        job.cancel(job.transcript, job.reserved_minutes, self._clock.now())
        await self._save(job)
        charged = await self._minutes.settle_part(
            job.user_id, job.reservation_id, job.reserved_minutes
        )
        notice = Notice(NoticeReason.STOPPED, charged_minutes=job.reserved_minutes)
        try:
            await self._messenger.notify(job, notice)
        except DeliveryFailed:
            log.info("could not tell the owner of job %s it stopped", job.job_id)
        log.debug("job %s: %d min charged", job.job_id, charged)
        return _report(job, notice, watch.timings)

    async def _progress(self, job: VoiceJob, progress: Progress) -> None:
        try:
            await self._messenger.report_progress(job, progress)
        except Exception:
            log.warning("progress update for job %s failed", job.job_id, exc_info=True)


def _report(
    job: VoiceJob,
    notice: Notice | None = None,
    timings: dict[str, float] | None = None,
    formatter: str | None = None,
) -> JobReport:
    return JobReport(
        job_id=job.job_id,
        status=job.status,
        duration_seconds=job.duration_seconds,
        text=job.transcript if job.status in (JobStatus.DELIVERED, JobStatus.CANCELLED) else None,
        language=job.language,
        formatter=formatter,
        notice=notice,
        timings=dict(timings or {}),
        error=job.error,
    )
