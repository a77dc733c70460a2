"""The ports: what the use cases need from the world, as ``typing.Protocol``.

Each port has its own error types (``errors.py``) so that no SDK exception reaches the
use cases; adapters in ``infrastructure/`` translate. Everything that may block is async.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

import attrs

from application.notices import Notice
from application.progress import Progress
from domain.chats import Chat
from domain.jobs import AudioSource, UserStyle, VoiceJob
from domain.ledger import MinutesAccount
from domain.policies import AudioEncoding, AudioProfile, ChunkSpan, EnergyEnvelope
from domain.transcript import Segment, Transcript
from domain.transcript_actions import ActionResult


@attrs.frozen
class ProbedAudio:
    duration_seconds: float
    has_audio: bool = True


@attrs.frozen
class Recognition:
    """What a recognizer heard: the plain text, the language, and the timed segments.

    ``segments`` are timed from the start of the audio given, or a single untimed segment
    from a recognizer that gives no times (the caller knows the audio's span and places
    it there: ``domain.transcript.placed``); empty when the timing is unknown, which
    ``transcript`` reads as the text in one untimed segment."""

    text: str
    language: str | None = None
    segments: tuple[Segment, ...] = ()

    @property
    def transcript(self) -> Transcript:
        """The segments as a ``Transcript``; the text untimed when there are none."""
        return Transcript(self.segments) if self.segments else Transcript.untimed(self.text)


@attrs.frozen
class QueueMessage:
    job_id: str
    receipt: str
    delivery_count: int


@attrs.frozen
class QueueBacklog:
    """What waits in the job queue, for ``/healthz`` and the owner's alert: ``depth`` counts
    every message (delayed and in progress too); ``oldest_waiting_seconds`` is how long
    the message that has been receivable longest has waited for a worker (0 when none
    waits). Either is ``None`` when the backend cannot tell (MNS has no message ages)."""

    depth: int | None
    oldest_waiting_seconds: float | None


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for measuring stages."""
        ...


class FileSource(Protocol):
    async def fetch(self, source: AudioSource) -> bytes:
        """The file's bytes. Raises FileUnavailable / FileTooLarge."""
        ...


class AudioConverter(Protocol):
    async def probe(self, data: bytes) -> ProbedAudio:
        """Duration of the first audio stream. Raises AudioUnreadable."""
        ...

    async def envelope(
        self, data: bytes, step_seconds: float, span: ChunkSpan | None = None
    ) -> EnergyEnvelope:
        """Loudness per step (steps counted from 0 s), so long audio can be cut at quiet
        points; with ``span``, only of the steps starting in it. Raises AudioUnreadable."""
        ...

    async def convert(
        self, data: bytes, profile: AudioProfile, span: ChunkSpan | None = None
    ) -> bytes:
        """The audio (or one span of it) encoded with ``profile``. Raises AudioUnreadable."""
        ...


class SpeechRecognizer(Protocol):
    @property
    def encoding(self) -> AudioEncoding:
        """The encoding this recognizer wants its audio in."""
        ...

    @property
    def max_chunk_seconds(self) -> float | None:
        """Longest audio one request takes; ``None`` for no limit."""
        ...

    @property
    def gives_times(self) -> bool:
        """Whether its answers are timed segments; one without times is sent cue-sized
        chunks when times are wanted (``domain.cue_chunks``)."""
        ...

    async def recognize(
        self,
        audio: bytes,
        profile: AudioProfile,
        language: str | None,
        language_hint: str | None = None,
    ) -> Recognition:
        """Text of the audio; empty text means no speech. Raises RecognitionFailed.

        ``segments`` of the answer, when timed, are ordered, lie within the audio given and
        join to its ``text``; a recognizer without times answers one untimed segment.

        ``language`` (the user's setting) is decoded in as given. With none, the language
        is detected, and ``language_hint`` (the user's Telegram language) is a prior the
        recognizer may use when its detection is unsure; it never overrules clear speech
        in another language."""
        ...


class TextFormatter(Protocol):
    @property
    def name(self) -> str: ...

    async def format(self, text: str, style: UserStyle) -> str:
        """Readable text: punctuation, paragraphs. Raises FormattingFailed."""
        ...


class Messenger(Protocol):
    async def report_progress(self, job: VoiceJob, progress: Progress) -> None:
        """Best effort: showing progress must neither fail the job nor hold it up."""
        ...

    async def deliver(self, job: VoiceJob, text: str) -> None:
        """Send the finished transcript, shaped by ``job.style``. Raises DeliveryFailed.

        An answer in several messages counts them in ``job.parts_sent`` as they go out and
        skips those already sent, so the caller saves the job after a failure and a retry
        sends only the rest."""
        ...

    async def notify(self, job: VoiceJob, notice: Notice) -> None:
        """Tell the job's owner why no transcript comes, or a heads-up while the job goes
        on (a low balance: a message of its own, the status left alone). Raises
        DeliveryFailed."""
        ...


class JobRepository(Protocol):
    async def add(self, job: VoiceJob) -> bool:
        """Store a new job; ``False`` (and nothing written) if its id exists already."""
        ...

    async def get(self, job_id: str) -> VoiceJob | None: ...

    async def save(self, job: VoiceJob) -> None:
        """Write the job if nobody saved it since it was read (version check), then bump
        ``job.version``. Raises ConcurrentUpdate when the stored version moved on."""
        ...

    async def list_by_user(self, user_id: int, limit: int) -> Sequence[VoiceJob]: ...

    async def find_transcript(self, file_unique_id: str, style: UserStyle) -> VoiceJob | None:
        """The newest delivered job of this very file whose text reads the same with
        ``style`` (see ``UserStyle.same_result_as``): the transcript cache."""
        ...

    async def list_unfinished(self, updated_before: float, limit: int) -> Sequence[VoiceJob]:
        """Jobs not yet finished whose last change is older than ``updated_before``,
        oldest first: the candidates of a stuck-job flush."""
        ...

    async def list_since(self, created_since: float, limit: int) -> Sequence[VoiceJob]:
        """Jobs created at or after ``created_since``, newest first (statistics, export)."""
        ...


@attrs.frozen
class PaymentRecord:
    """One Telegram Stars payment, as received; ``refunded_at`` once it was refunded."""

    charge_id: str
    user_id: int
    package_id: str
    stars: int
    minutes: int
    paid_at: float
    refunded_at: float | None = None


class PaymentRepository(Protocol):
    async def add(self, payment: PaymentRecord) -> bool:
        """Store a payment; ``False`` (nothing written) when its charge id is stored."""
        ...

    async def get(self, charge_id: str) -> PaymentRecord | None: ...

    async def mark_refunded(self, charge_id: str, refunded_at: float) -> None:
        """Raises StorageError if the payment is not stored."""
        ...

    async def list_since(self, paid_since: float, limit: int) -> Sequence[PaymentRecord]:
        """Payments made at or after ``paid_since``, newest first."""
        ...


class StarsGateway(Protocol):
    """Telegram's side of a Stars payment: the invoice, and the refund."""

    async def send_invoice(
        self, chat_id: int, title: str, description: str, payload: str, stars: int
    ) -> None:
        """Raises DeliveryFailed."""
        ...

    async def refund(self, user_id: int, charge_id: str) -> None:
        """Return the stars to the user. Raises PaymentRefused."""
        ...


class OwnerAlerts(Protocol):
    async def alert(self, text: str) -> None:
        """Best effort: tell the operator something needs a look. Never raises."""
        ...


class PreferencesRepository(Protocol):
    async def get(self, user_id: int) -> UserStyle | None: ...

    async def save(self, user_id: int, style: UserStyle) -> None:
        """Last writer wins: settings are changed by their one owner."""
        ...


@attrs.frozen
class WaitingUpdate:
    """An update claimed and not yet settled: its body and how many handlings failed."""

    key: str
    payload: str
    attempts: int = 0


@attrs.frozen
class FailedUpdate:
    """An update given up on after its attempts ran out, kept for the owner to look at."""

    key: str
    payload: str
    attempts: int
    error: str
    failed_at: float


class ProcessedUpdates(Protocol):
    """The inbox of Telegram updates: each update is recorded (with its body) before it is
    acknowledged, and settled (finished, or failed for good) once handled, so a crash in
    between loses nothing. A claim is a lease: ``holder`` handles the update until
    ``lease_until`` (epoch seconds) and renews the lease while it holds it; once the lease
    ran out, anyone may take the update over (a conditional write: one winner)."""

    async def claim(
        self, key: str, payload: str = "", *, holder: str = "", lease_until: float = 0.0
    ) -> bool:
        """Record ``key`` atomically; ``False`` if it was recorded before (a redelivery)."""
        ...

    async def finish(self, key: str) -> None:
        """The update was handled: it is never replayed."""
        ...

    async def unfinished(self, claimed_before: float, limit: int) -> Sequence[tuple[str, str]]:
        """(key, payload) of updates claimed before ``claimed_before`` and never settled,
        oldest first."""
        ...

    async def expired(self, now: float, limit: int) -> Sequence[WaitingUpdate]:
        """Unsettled updates whose lease ran out before ``now``, oldest claim first: what
        an instance that died left (candidates for ``take_over``)."""
        ...

    async def take_over(self, key: str, holder: str, now: float, lease_until: float) -> bool:
        """Become the update's holder until ``lease_until`` if it is unsettled and its lease
        ran out before ``now``; ``False`` when someone else holds it or it is settled."""
        ...

    async def renew(self, keys: Sequence[str], holder: str, lease_until: float) -> None:
        """Extend the leases of the updates in ``keys`` that ``holder`` still holds."""
        ...

    async def record_attempt(self, key: str, attempts: int) -> None:
        """The update's handling failed ``attempts`` times so far (survives a take-over)."""
        ...

    async def fail(self, key: str, attempts: int, error: str, failed_at: float) -> None:
        """Give up on the update: never replayed again; its body is kept for the owner."""
        ...

    async def failed(self, limit: int) -> Sequence[FailedUpdate]:
        """Updates given up on, most recent first."""
        ...


class AccountRepository(Protocol):
    async def get(self, user_id: int) -> MinutesAccount | None: ...

    async def list_all(self, limit: int) -> Sequence[MinutesAccount]:
        """Every account, up to ``limit`` (statistics, export)."""
        ...

    async def save(self, account: MinutesAccount) -> None:
        """Insert (version 0) or update with a version check, then bump ``account.version``.
        Raises ConcurrentUpdate when another writer got there first."""
        ...


class JobQueue(Protocol):
    async def enqueue(self, job_id: str, delay_seconds: float = 0.0) -> None:
        """Add a message for the job, received no sooner than ``delay_seconds`` from now
        (a job put back to wait for a lease or a provider). Raises QueueError."""
        ...

    async def receive(self, wait_seconds: float) -> QueueMessage | None:
        """Next visible message, hidden for the visibility timeout; ``None`` when empty."""
        ...

    async def extend(self, message: QueueMessage, seconds: float) -> QueueMessage:
        """Keep a message hidden while its job runs; returns the message with a new receipt."""
        ...

    async def acknowledge(self, message: QueueMessage) -> None:
        """Delete the message: its job is settled. Raises QueueError."""
        ...

    async def position(self, job_id: str) -> int | None:
        """1-based place of the job in the queue, or ``None`` when the backend cannot tell."""
        ...

    async def backlog(self) -> QueueBacklog:
        """How much waits, and how long the oldest receivable message has. Raises
        QueueError."""
        ...


class ChatRepository(Protocol):
    """Group chats' settings (``domain.chats.Chat``), by chat id."""

    async def get(self, chat_id: int) -> Chat | None:
        """``None`` for a chat never saved: it has the defaults (``Chat(chat_id)``)."""
        ...

    async def save(self, chat: Chat) -> None:
        """Insert (version 0) or update with a version check, then bump ``chat.version``.
        Raises ConcurrentUpdate when another writer got there first (two admins pressing
        buttons, a sponsor running out while an admin changes the mode)."""
        ...

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> Chat | None:
        """A group became a supergroup: its settings move to the new id and the old record
        is removed. Idempotent (Telegram announces a migration in both chats): when the new
        id already has settings they are kept. Returns what is now stored under the new id,
        ``None`` when neither chat has settings."""
        ...


class UserDataEraser(Protocol):
    """Erasing users' transcripts and settings for good: ``/forget`` and the retention
    sweep (``domain.retention``). A job's record goes whole (its text, segments, and the
    index the transcript cache reads), so a cache lookup of its file then misses. Payments
    and minutes accounts are never erased here."""

    async def erase_jobs(self, jobs: Sequence[VoiceJob]) -> int:
        """Delete these jobs' records if they are still finished; returns how many were
        deleted (one erased already, or not stored, is not counted). Raises StorageError."""
        ...

    async def finished_before(self, updated_before: float, limit: int) -> Sequence[VoiceJob]:
        """Finished jobs last changed before ``updated_before``, oldest first: the
        candidates of the retention sweep."""
        ...

    async def erase_settings(self, user_id: int) -> bool:
        """Delete the user's settings (they read as the defaults afterwards); whether there
        were any."""
        ...


class ActionWriter(Protocol):
    """A language model that answers instructions about a text (summary, action items,
    translation of a stored transcript)."""

    @property
    def name(self) -> str: ...

    async def write(self, instructions: str, text: str, *, in_pieces: bool = False) -> str:
        """The model's answer to ``instructions`` for ``text``, through the formatters'
        answer guards. ``in_pieces``: the text is long and answered piece by piece, in
        order (a translation, which is as long as its text). Raises FormattingFailed."""
        ...


class ActionResultRepository(Protocol):
    """Results of actions on transcripts (``domain.transcript_actions.ActionResult``), by
    the transcript's job id and the action's key: the cache a second press answers from."""

    async def get(self, job_id: str, key: str) -> ActionResult | None: ...

    async def add(self, result: ActionResult) -> bool:
        """Store a result; ``False`` (and nothing written) when one is stored under its job
        id and key already (two presses raced: the first one stays). Raises StorageError."""


@attrs.frozen
class UploadRecord:
    """A recording a user is uploading through the Mini App (``domain.uploads`` decides
    what may be appended). ``received`` is what storage holds for sure: a resume starts
    there. ``file_name`` is shown, never used as a path."""

    upload_id: str
    owner_id: int
    size: int
    file_name: str
    created_at: float
    received: int = 0
    job_id: str | None = None


class UploadStorage(Protocol):
    """Where uploaded recordings wait for their job (a local folder, or OSS)."""

    async def create(self, record: UploadRecord) -> None:
        """Store a new, empty upload. Raises UploadError."""
        ...

    async def get(self, upload_id: str) -> UploadRecord | None:
        """The upload with ``received`` as stored now; None when unknown or removed."""
        ...

    async def append(self, upload_id: str, offset: int, chunks: AsyncIterator[bytes]) -> int:
        """Write the chunks from ``offset`` (which must be ``received``) as they come,
        never holding them all; returns the bytes now stored. A stream that stops early
        keeps what arrived. Raises UploadError."""
        ...

    async def mark_submitted(self, upload_id: str, job_id: str) -> None:
        """The complete upload was handed to the job ``job_id``."""
        ...

    async def read(self, upload_id: str) -> bytes:
        """The complete upload's bytes, for its job. Raises UploadError."""
        ...

    async def remove(self, upload_id: str) -> None:
        """Forget the upload and its bytes (done when missing)."""
        ...

    async def list_all(self, limit: int) -> Sequence[UploadRecord]:
        """Uploads stored now, for the sweep."""
        ...
