"""A voice job: one audio file on its way to becoming text, and the legal moves of its status.

The lifecycle is ``accepted -> queued -> processing -> delivered | failed | no_speech``
(``accepted -> processing`` for audio handled at once). The user may stop a job (the
Stop button): one not started yet is ``cancelled`` at once; a running one is
``stopping`` until its worker sees it between chunks, delivers what was recognized and
ends it ``cancelled``. A finished job ignores a second
delivery of the same work instead of raising, because queues deliver at least once.
"""

from __future__ import annotations

from enum import StrEnum

import attrs

from domain.errors import IllegalTransition, LeaseHeld
from domain.events import (
    Event,
    JobCancelled,
    JobFailed,
    JobQueued,
    JobStarted,
    NoSpeechFound,
    TranscriptDelivered,
)
from domain.transcript import Segment, Transcript

# How the stored ``error`` of a failure the user caused begins (``VoiceJob.refused``).
REFUSED = "refused: "


class JobStatus(StrEnum):
    ACCEPTED = "accepted"
    QUEUED = "queued"
    PROCESSING = "processing"
    DELIVERED = "delivered"
    FAILED = "failed"
    NO_SPEECH = "no_speech"
    STOPPING = "stopping"  # the user pressed Stop while it ran; its worker ends it
    CANCELLED = "cancelled"

    @property
    def is_finished(self) -> bool:
        return self in FINISHED_STATUSES


FINISHED_STATUSES = frozenset(
    {JobStatus.DELIVERED, JobStatus.FAILED, JobStatus.NO_SPEECH, JobStatus.CANCELLED}
)
# A worker runs the job: its lease counts, and it may be delivered.
RUNNING_STATUSES = frozenset({JobStatus.PROCESSING, JobStatus.STOPPING})


class StopOutcome(StrEnum):
    """What pressing Stop did to a job."""

    CANCELLED = "cancelled"  # it had not started: ended now, nothing charged
    STOPPING = "stopping"  # it runs: its worker stops it between chunks
    FINISHED = "finished"  # too late: it had ended already; nothing changes


class MediaKind(StrEnum):
    """What the user sent; decides nothing but wording and how the file is fetched."""

    VOICE = "voice"
    AUDIO = "audio"
    VIDEO = "video"
    VIDEO_NOTE = "video_note"
    DOCUMENT = "document"
    LOCAL_FILE = "local_file"


class OutputMode(StrEnum):
    """How a transcript reaches the user (``/output``). The values are stored, so they
    never change: ``messages`` and ``file`` are what releases before timed outputs wrote."""

    MESSAGES = "messages"  # the formatted text as messages
    TIMED = "timed"  # paragraphs opening with [mm:ss], as messages
    FILE = "file"  # the formatted text as a .txt document
    SRT = "srt"  # subtitles, a .srt document
    VTT = "vtt"  # subtitles, a .vtt document

    @property
    def needs_times(self) -> bool:
        """Whether this output is made from the transcript's times (timed text, subtitles):
        a recognizer without times is then sent cue-sized chunks (``domain.cue_chunks``)."""
        return self in (OutputMode.TIMED, OutputMode.SRT, OutputMode.VTT)


@attrs.frozen
class AudioSource:
    """Where the audio lives and what its sender told us about it."""

    kind: MediaKind
    file_id: str
    file_unique_id: str
    duration_seconds: float | None = None
    file_size: int | None = None
    mime_type: str | None = None
    file_name: str | None = None
    # Forwarded from another person: their name, shown above the transcript ("From: …").
    forwarded_from: str | None = None
    # Someone asked for this text (a private note, a /transcribe); False for a group's note
    # transcribed automatically: then no notice is posted when it yields no text.
    asked_for: bool = True


@attrs.frozen
class UserStyle:
    """The user's settings that shape recognition and the delivered text."""

    use_yo: bool = True
    use_code_tags: bool = False
    language: str | None = None
    output: OutputMode = OutputMode.MESSAGES
    ui_language: str | None = None

    def same_result_as(self, other: UserStyle) -> bool:
        """Whether a transcript made with this style serves a request made with ``other``:
        it reads exactly the same, and its times are as fine as ``other`` needs (one made
        for plain text by a recognizer without times has only its long chunks' times)."""
        same_text = (self.use_yo, self.use_code_tags, self.language) == (
            other.use_yo,
            other.use_code_tags,
            other.language,
        )
        return same_text and (self.output.needs_times or not other.output.needs_times)


@attrs.define
class VoiceJob:
    job_id: str
    user_id: int
    chat_id: int
    source: AudioSource
    duration_seconds: float
    reserved_minutes: int
    style: UserStyle
    created_at: float
    updated_at: float
    status: JobStatus = JobStatus.ACCEPTED
    attempts: int = 0
    reply_to_message_id: int | None = None
    status_message_id: int | None = None
    lease_expires_at: float | None = None
    language: str | None = None
    transcript: str | None = None
    error: str | None = None
    # When the recognizer was first found unavailable for this job (``None``: never); the
    # job waits such an outage out (``domain.recovery.outage_delay``) before failing.
    outage_since: float | None = None
    # How many messages of the answer are out (the preview counts as one, the .txt as the
    # next): a retried delivery sends only the rest, so no part reaches the user twice.
    parts_sent: int = 0
    # What the recognizer heard, with its times (before formatting, which never moves
    # times): subtitles and timestamped text are made from it. Empty for a job stored
    # before segments were kept, or not recognized yet.
    segments: tuple[Segment, ...] = ()
    version: int = 0
    events: list[Event] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def recognized(self) -> Transcript:
        """The timed transcript; a job stored before segments were kept reads as its text
        in one segment without times (deliverable as text, not as subtitles)."""
        if self.segments:
            return Transcript(self.segments)
        return Transcript.untimed(self.transcript or "")

    @property
    def reservation_id(self) -> str:
        """The minutes reserved for this job are booked under the job's own id."""
        return self.job_id

    @property
    def refused(self) -> bool:
        """Failed for a reason the user (or the owner) caused: no minutes, a bad file, the
        bot blocked, a flush. Kept apart from the failures the owner must look into."""
        return self.status is JobStatus.FAILED and (self.error or "").startswith(REFUSED)

    def queue(self, now: float) -> bool:
        if self.status.is_finished:
            return False
        self._require(JobStatus.ACCEPTED, target=JobStatus.QUEUED)
        self._move(JobStatus.QUEUED, now)
        self.events.append(JobQueued(self.job_id))
        return True

    def start(self, now: float, lease_seconds: float = 600.0) -> bool:
        """Claim the job for processing; ``False`` means it is finished and needs nothing.

        The claim is a lease: while another worker's lease runs, the job is theirs
        (``LeaseHeld``). A job whose lease ran out may start again: its worker died and the
        queue handed the message out a second time.
        """
        if self.status.is_finished:
            return False
        if self.holds_lease(now):
            raise LeaseHeld(f"job {self.job_id} is leased until {self.lease_expires_at}")
        self.attempts += 1
        self.lease_expires_at = now + lease_seconds
        # A job stopped while it had no worker stays stopping: its new worker ends it.
        self._move(JobStatus.STOPPING if self.stop_requested else JobStatus.PROCESSING, now)
        self.events.append(JobStarted(self.job_id, self.attempts))
        return True

    def holds_lease(self, now: float) -> bool:
        return (
            self.status in RUNNING_STATUSES
            and self.lease_expires_at is not None
            and self.lease_expires_at > now
        )

    def release_lease(self) -> None:
        """Give the claim back (to be retried from the queue) without finishing the job."""
        self.lease_expires_at = None

    def renew_lease(self, now: float, lease_seconds: float) -> bool:
        """Extend the claim of the worker running the job; ``False`` when there is no claim
        to extend (finished, or given back)."""
        if self.status not in RUNNING_STATUSES or self.lease_expires_at is None:
            return False
        self.lease_expires_at = max(self.lease_expires_at, now + lease_seconds)
        return True

    def wait_for_provider(self, now: float) -> bool:
        """The recognizer is unavailable: give the claim back to try again later, without
        counting this try as an attempt (the job is not at fault). Returns whether this is
        the first outage the job meets (its owner is told once)."""
        if self.status is not JobStatus.PROCESSING:
            raise IllegalTransition(f"job {self.job_id}: {self.status} waits for no provider")
        first = self.outage_since is None
        if first:
            self.outage_since = now
        self.attempts = max(0, self.attempts - 1)
        self.lease_expires_at = None
        self.updated_at = now
        return first

    def deliver(self, transcript: str, language: str | None, now: float) -> bool:
        if self.status.is_finished:
            return False
        if self.status is JobStatus.STOPPING:
            self.status = JobStatus.PROCESSING  # Stop came after the whole text was made
        self._require(JobStatus.PROCESSING, target=JobStatus.DELIVERED)
        self.transcript = transcript
        self.language = language
        self._move(JobStatus.DELIVERED, now)
        self.events.append(
            TranscriptDelivered(self.job_id, self.user_id, len(transcript), language)
        )
        return True

    def find_no_speech(self, now: float) -> bool:
        if self.status.is_finished:
            return False
        self._require(JobStatus.PROCESSING, target=JobStatus.NO_SPEECH)
        self._move(JobStatus.NO_SPEECH, now)
        self.events.append(NoSpeechFound(self.job_id, self.user_id))
        return True

    def fail(self, reason: str, now: float, *, caused_by_user: bool = False) -> bool:
        if self.status.is_finished:
            return False
        self.error = f"{REFUSED}{reason}" if caused_by_user else reason
        self._move(JobStatus.FAILED, now)
        self.events.append(JobFailed(self.job_id, self.user_id, reason, caused_by_user))
        return True

    @property
    def stop_requested(self) -> bool:
        return self.status is JobStatus.STOPPING

    def request_stop(self, now: float) -> StopOutcome:
        """The user pressed Stop. A job not started yet ends at once, charged nothing
        (``reserved_minutes`` becomes the charge: 0); a running one is marked for its
        worker; a finished one is left as it is."""
        if self.status.is_finished:
            return StopOutcome.FINISHED
        if self.status in RUNNING_STATUSES:
            if self.status is JobStatus.PROCESSING:
                self.status = JobStatus.STOPPING
                self.updated_at = now
            return StopOutcome.STOPPING
        self.cancel(None, 0, now)
        return StopOutcome.CANCELLED

    def cancel(self, partial_text: str | None, charged_minutes: int, now: float) -> bool:
        """End a stopped job: ``partial_text`` is what was recognized (``None``: nothing),
        ``charged_minutes`` what it costs (``domain.cancellation``), kept as the job's
        ``reserved_minutes`` so a settlement repeated after a crash charges the same."""
        if self.status.is_finished:
            return False
        if charged_minutes < 0 or charged_minutes > max(self.reserved_minutes, 0):
            raise ValueError(
                f"job {self.job_id}: charge {charged_minutes} outside 0..{self.reserved_minutes}"
            )
        self.transcript = partial_text
        self.reserved_minutes = charged_minutes
        self._move(JobStatus.CANCELLED, now)
        self.events.append(JobCancelled(self.job_id, self.user_id, charged_minutes))
        return True

    def _require(self, expected: JobStatus, *, target: JobStatus) -> None:
        if self.status is not expected:
            raise IllegalTransition(f"job {self.job_id}: {self.status} -> {target}")

    def _move(self, status: JobStatus, now: float) -> None:
        self.status = status
        self.updated_at = now
        if status.is_finished:
            self.lease_expires_at = None
