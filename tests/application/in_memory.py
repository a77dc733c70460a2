"""In-memory fakes of our own ports, for testing the use cases without any I/O."""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

from application.errors import (
    AudioUnreadable,
    ConcurrentUpdate,
    FileUnavailable,
    FormattingFailed,
    PaymentRefused,
    QueueError,
    StorageError,
)
from application.notices import Notice
from application.ports import (
    FailedUpdate,
    PaymentRecord,
    ProbedAudio,
    QueueBacklog,
    QueueMessage,
    Recognition,
    WaitingUpdate,
)
from application.progress import Progress
from domain.jobs import AudioSource, JobStatus, UserStyle, VoiceJob
from domain.ledger import MinutesAccount
from domain.policies import (
    AudioEncoding,
    AudioProfile,
    ChunkSpan,
    EnergyEnvelope,
    steps_between,
)
from domain.transcript import Segment
from domain.transcript_actions import ActionResult

T = TypeVar("T")


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.current = start

    def now(self) -> float:
        return self.current

    def monotonic(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


class InMemoryJobRepository:
    def __init__(self) -> None:
        self.rows: dict[str, VoiceJob] = {}
        self.conflicts = 0  # saves refused: the job changed since it was read

    async def add(self, job: VoiceJob) -> bool:
        if job.job_id in self.rows:
            return False
        self.rows[job.job_id] = _stored(job)
        return True

    async def get(self, job_id: str) -> VoiceJob | None:
        job = self.rows.get(job_id)
        return _stored(job) if job else None

    async def save(self, job: VoiceJob) -> None:
        stored = self.rows.get(job.job_id)
        if stored is None or stored.version != job.version:
            self.conflicts += 1
            raise ConcurrentUpdate(job.job_id)
        job.version += 1
        self.rows[job.job_id] = _stored(job)

    async def list_by_user(self, user_id: int, limit: int) -> Sequence[VoiceJob]:
        mine = [j for j in self.rows.values() if j.user_id == user_id]
        return sorted(mine, key=lambda j: j.created_at, reverse=True)[:limit]

    async def list_unfinished(self, updated_before: float, limit: int) -> Sequence[VoiceJob]:
        stuck = [
            _stored(j)
            for j in self.rows.values()
            if not j.status.is_finished and j.updated_at < updated_before
        ]
        return sorted(stuck, key=lambda j: j.updated_at)[:limit]

    async def list_since(self, created_since: float, limit: int) -> Sequence[VoiceJob]:
        recent = [_stored(j) for j in self.rows.values() if j.created_at >= created_since]
        return sorted(recent, key=lambda j: j.created_at, reverse=True)[:limit]

    async def find_transcript(self, file_unique_id: str, style: UserStyle) -> VoiceJob | None:
        done = [
            job
            for job in self.rows.values()
            if job.source.file_unique_id == file_unique_id
            and job.status is JobStatus.DELIVERED
            and job.style.same_result_as(style)
        ]
        newest = max(done, key=lambda j: j.updated_at, default=None)
        return _stored(newest) if newest else None


class InMemoryAccountRepository:
    def __init__(self) -> None:
        self.rows: dict[int, MinutesAccount] = {}

    async def get(self, user_id: int) -> MinutesAccount | None:
        account = self.rows.get(user_id)
        return _stored(account) if account else None

    async def save(self, account: MinutesAccount) -> None:
        stored = self.rows.get(account.user_id)
        if (stored.version if stored else 0) != account.version:
            raise ConcurrentUpdate(str(account.user_id))
        account.version += 1
        self.rows[account.user_id] = _stored(account)

    async def list_all(self, limit: int) -> Sequence[MinutesAccount]:
        return [_stored(a) for a in list(self.rows.values())[:limit]]


class InMemoryJobQueue:
    def __init__(self, clock: FakeClock, visibility_seconds: float = 60.0) -> None:
        self._clock = clock
        self._visibility = visibility_seconds
        self._receipts = itertools.count(1)
        self.messages: list[dict[str, object]] = []
        self.fail_enqueue = False

    async def enqueue(self, job_id: str, delay_seconds: float = 0.0) -> None:
        if self.fail_enqueue:
            raise QueueError("queue unreachable", transient=True)
        visible_at = self._clock.now() + delay_seconds if delay_seconds > 0 else 0.0
        self.messages.append(
            {"job_id": job_id, "visible_at": visible_at, "count": 0, "receipt": ""}
        )
        self.messages[-1]["enqueued_at"] = self._clock.now()

    async def receive(self, wait_seconds: float) -> QueueMessage | None:
        for message in self.messages:
            if float(message["visible_at"]) <= self._clock.now():  # type: ignore[arg-type]
                message["visible_at"] = self._clock.now() + self._visibility
                message["count"] = int(message["count"]) + 1  # type: ignore[call-overload]
                message["receipt"] = f"r{next(self._receipts)}"
                return _as_message(message)
        if wait_seconds > 0:
            # A real queue's receive waits for a message: never return at once to a loop
            # that asks again, or it starves every other task.
            await asyncio.sleep(0.01)
        return None

    async def extend(self, message: QueueMessage, seconds: float) -> QueueMessage:
        row = self._find(message)
        row["visible_at"] = self._clock.now() + seconds
        row["receipt"] = f"r{next(self._receipts)}"
        return _as_message(row)

    async def acknowledge(self, message: QueueMessage) -> None:
        self.messages.remove(self._find(message))

    async def position(self, job_id: str) -> int | None:
        ids = [str(m["job_id"]) for m in self.messages]
        return ids.index(job_id) + 1 if job_id in ids else None

    async def backlog(self) -> QueueBacklog:
        now = self._clock.now()
        since = [
            max(float(m["visible_at"]), float(m["enqueued_at"]))  # type: ignore[arg-type]
            for m in self.messages
        ]
        receivable = [t for t in since if t <= now]
        return QueueBacklog(len(self.messages), now - min(receivable) if receivable else 0.0)

    def _find(self, message: QueueMessage) -> dict[str, object]:
        for row in self.messages:
            if row["receipt"] == message.receipt:
                return row
        raise QueueError("receipt expired")


def _as_message(row: dict[str, object]) -> QueueMessage:
    return QueueMessage(str(row["job_id"]), str(row["receipt"]), int(row["count"]))  # type: ignore[call-overload]


def _stored(value: T) -> T:
    copied = copy.deepcopy(value)
    events = getattr(copied, "events", None)
    if isinstance(events, list):
        events.clear()
    return copied


@attrs.define
class FakeAudio:
    """What the fake file source serves: a duration, optional speech, or broken bytes."""

    duration_seconds: float
    words: str = "hello world"
    unreadable: bool = False


class FakeFileSource:
    def __init__(self) -> None:
        self.files: dict[str, FakeAudio] = {}
        self.failures: list[Exception] = []  # raised by the next fetches, in order

    async def fetch(self, source: AudioSource) -> bytes:
        if self.failures:
            raise self.failures.pop(0)
        if source.file_id not in self.files:
            raise FileUnavailable(source.file_id)
        return source.file_id.encode()


class FakeConverter:
    """Treats the bytes as a file id and answers from the file source's table."""

    def __init__(self, files: FakeFileSource) -> None:
        self._files = files
        self.conversions: list[tuple[AudioProfile, ChunkSpan | None]] = []
        self.envelopes: list[ChunkSpan | None] = []

    async def probe(self, data: bytes) -> ProbedAudio:
        audio = self._files.files[data.decode()]
        if audio.unreadable:
            raise AudioUnreadable("not audio")
        return ProbedAudio(audio.duration_seconds)

    async def envelope(
        self, data: bytes, step_seconds: float, span: ChunkSpan | None = None
    ) -> EnergyEnvelope:
        self.envelopes.append(span)
        audio = self._files.files[data.decode()]
        if audio.unreadable:
            raise AudioUnreadable("not audio")
        steps = range(int(audio.duration_seconds / step_seconds) + 1)
        if span is not None:
            steps = steps_between(span.start, span.end, step_seconds)
        return EnergyEnvelope(step_seconds, [1.0] * len(steps), steps.start)

    async def convert(
        self, data: bytes, profile: AudioProfile, span: ChunkSpan | None = None
    ) -> bytes:
        self.conversions.append((profile, span))
        audio = self._files.files[data.decode()]
        if audio.unreadable:
            raise AudioUnreadable("not audio")
        return audio.words.encode()


class FakeRecognizer:
    def __init__(self, max_chunk_seconds: float | None = None) -> None:
        self._max_chunk_seconds = max_chunk_seconds
        self.failures: list[Exception] = []
        self.calls = 0
        # Texts answered by the next calls, in order, instead of the audio's words (a
        # recognizer's loop, then a good text); and each call's (language, language_hint).
        self.answers: list[str] = []
        self.requests: list[tuple[str | None, str | None]] = []
        # The segments each answer comes with, made from its text (timed from the start of
        # the audio given, or untimed as a cloud recognizer's); None: no segments.
        self.segments_of: Callable[[str], tuple[Segment, ...]] | None = None
        # Whether it says its answers are timed (as Whisper) or not (as qwen3-asr-flash).
        self.timed = False

    @property
    def encoding(self) -> AudioEncoding:
        return AudioEncoding.MP3

    @property
    def max_chunk_seconds(self) -> float | None:
        return self._max_chunk_seconds

    @property
    def gives_times(self) -> bool:
        return self.timed

    async def recognize(
        self,
        audio: bytes,
        profile: AudioProfile,
        language: str | None,
        language_hint: str | None = None,
    ) -> Recognition:
        self.calls += 1
        self.requests.append((language, language_hint))
        if self.failures:
            raise self.failures.pop(0)
        text = self.answers.pop(0) if self.answers else audio.decode()
        segments = self.segments_of(text) if self.segments_of is not None else ()
        return Recognition(text, language or "en", segments)


class FakeFormatter:
    def __init__(self, name: str = "fake-llm", fail: bool = False, shrink: bool = False) -> None:
        self._name = name
        self.fail = fail
        self.shrink = shrink
        self.calls = 0
        self.written: list[str] = []  # the instructions of each action asked for

    @property
    def name(self) -> str:
        return self._name

    async def format(self, text: str, style: UserStyle) -> str:
        self.calls += 1
        if self.fail:
            raise FormattingFailed("down", transient=True)
        return text[:3] if self.shrink else f"[{self._name}] {text}"

    async def write(self, instructions: str, text: str, *, in_pieces: bool = False) -> str:
        """As an ``ActionWriter``: the first words of the instructions, then the text."""
        self.calls += 1
        self.written.append(instructions)
        if self.fail:
            raise FormattingFailed("down", transient=True)
        return f"[{self._name}: {' '.join(instructions.split()[:3])}] {text}"


class RecordingMessenger:
    def __init__(self) -> None:
        self.delivered: list[tuple[str, str]] = []
        self.delivered_jobs: list[VoiceJob] = []  # as the messenger got them (their style)
        self.notices: list[tuple[str, Notice]] = []
        self.progress: list[tuple[str, Progress]] = []

    async def report_progress(self, job: VoiceJob, progress: Progress) -> None:
        self.progress.append((job.job_id, progress))

    async def deliver(self, job: VoiceJob, text: str) -> None:
        self.delivered.append((job.job_id, text))
        self.delivered_jobs.append(job)

    async def notify(self, job: VoiceJob, notice: Notice) -> None:
        self.notices.append((job.job_id, notice))


class InMemoryActionResults:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], ActionResult] = {}

    async def get(self, job_id: str, key: str) -> ActionResult | None:
        return self.rows.get((job_id, key))

    async def add(self, result: ActionResult) -> bool:
        if (result.job_id, result.key) in self.rows:
            return False
        self.rows[(result.job_id, result.key)] = result
        return True


class InMemoryPreferencesRepository:
    def __init__(self) -> None:
        self.rows: dict[int, UserStyle] = {}

    async def get(self, user_id: int) -> UserStyle | None:
        return self.rows.get(user_id)

    async def save(self, user_id: int, style: UserStyle) -> None:
        self.rows[user_id] = style


@attrs.define
class _UpdateRow:
    payload: str
    seen_at: float
    holder: str
    lease_until: float
    finished: bool = False
    attempts: int = 0
    failure: FailedUpdate | None = None


class InMemoryProcessedUpdates:
    def __init__(self, clock: FakeClock | None = None) -> None:
        self._clock = clock or FakeClock()
        self.rows: dict[str, _UpdateRow] = {}

    async def claim(
        self, key: str, payload: str = "", *, holder: str = "", lease_until: float = 0.0
    ) -> bool:
        if key in self.rows:
            return False
        self.rows[key] = _UpdateRow(payload, self._clock.now(), holder, lease_until)
        return True

    async def finish(self, key: str) -> None:
        self.rows[key].finished = True

    async def unfinished(self, claimed_before: float, limit: int) -> Sequence[tuple[str, str]]:
        waiting = sorted(
            (row.seen_at, key, row.payload)
            for key, row in self.rows.items()
            if not row.finished and row.seen_at < claimed_before
        )
        return [(key, payload) for _, key, payload in waiting[:limit]]

    async def expired(self, now: float, limit: int) -> Sequence[WaitingUpdate]:
        waiting = sorted(
            (row.seen_at, key)
            for key, row in self.rows.items()
            if not row.finished and row.lease_until < now
        )
        return [
            WaitingUpdate(key, self.rows[key].payload, self.rows[key].attempts)
            for _, key in waiting[:limit]
        ]

    async def take_over(self, key: str, holder: str, now: float, lease_until: float) -> bool:
        row = self.rows.get(key)
        if row is None or row.finished or row.lease_until >= now:
            return False
        row.holder, row.lease_until = holder, lease_until
        return True

    async def renew(self, keys: Sequence[str], holder: str, lease_until: float) -> None:
        for key in keys:
            row = self.rows.get(key)
            if row is not None and row.holder == holder and not row.finished:
                row.lease_until = lease_until

    async def record_attempt(self, key: str, attempts: int) -> None:
        self.rows[key].attempts = attempts

    async def fail(self, key: str, attempts: int, error: str, failed_at: float) -> None:
        row = self.rows[key]
        row.finished, row.attempts = True, attempts
        row.failure = FailedUpdate(key, row.payload, attempts, error, failed_at)

    async def failed(self, limit: int) -> Sequence[FailedUpdate]:
        given_up = [row.failure for row in self.rows.values() if row.failure is not None]
        return sorted(given_up, key=lambda update: -update.failed_at)[:limit]


class InMemoryPaymentRepository:
    def __init__(self) -> None:
        self.rows: dict[str, PaymentRecord] = {}

    async def add(self, payment: PaymentRecord) -> bool:
        if payment.charge_id in self.rows:
            return False
        self.rows[payment.charge_id] = payment
        return True

    async def get(self, charge_id: str) -> PaymentRecord | None:
        return self.rows.get(charge_id)

    async def mark_refunded(self, charge_id: str, refunded_at: float) -> None:
        if charge_id not in self.rows:
            raise StorageError(f"payment {charge_id} is not stored")
        self.rows[charge_id] = attrs.evolve(self.rows[charge_id], refunded_at=refunded_at)

    async def list_since(self, paid_since: float, limit: int) -> Sequence[PaymentRecord]:
        recent = [p for p in self.rows.values() if p.paid_at >= paid_since]
        return sorted(recent, key=lambda p: p.paid_at, reverse=True)[:limit]


class RecordingStarsGateway:
    def __init__(self) -> None:
        self.invoices: list[tuple[int, str, int]] = []
        self.wording: list[tuple[str, str]] = []  # each invoice's title and description
        self.refunded: list[tuple[int, str]] = []
        self.refuse = False

    async def send_invoice(
        self, chat_id: int, title: str, description: str, payload: str, stars: int
    ) -> None:
        self.invoices.append((chat_id, payload, stars))
        self.wording.append((title, description))

    async def refund(self, user_id: int, charge_id: str) -> None:
        if self.refuse:
            raise PaymentRefused("CHARGE_ID_INVALID")
        self.refunded.append((user_id, charge_id))


class RecordingAlerts:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def alert(self, text: str) -> None:
        self.sent.append(text)
