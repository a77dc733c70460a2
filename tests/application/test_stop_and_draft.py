"""The Stop button and the draft of a long recording (#17), on in-memory ports.

The recognizer is gated per chunk (each chunk's audio names its start, so its text says
which chunk it is): a test opens the gates it wants, in the order it wants, and waits on
conditions, never on time. A 12-minute recording is five chunks of 150 s; two are sent
at once (``ASR_CONCURRENCY`` = 2), the next only when one of them is done.
"""

from __future__ import annotations

import asyncio
import itertools

from application.bootstrap import Tuning, bootstrap
from application.commands import AcceptVoiceNote, StopJob
from application.handlers.stop_job import StopResult
from application.notices import NoticeReason
from application.ports import Recognition
from application.progress import Stage
from domain.jobs import AudioSource, JobStatus, MediaKind, OutputMode, UserStyle
from domain.policies import AudioProfile, ChunkSpan, TranscriptionPolicy
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio, FakeConverter, FakeRecognizer
from tests.bounded_waits import finish, until

USER = 1
STRANGER = 2
TWELVE_MINUTES = 720.0
WAIT = 30.0


class ChunkNamingConverter(FakeConverter):
    """Each chunk's audio is the name of its start: ``part150`` for the chunk at 150 s."""

    async def convert(
        self, data: bytes, profile: AudioProfile, span: ChunkSpan | None = None
    ) -> bytes:
        await super().convert(data, profile, span)
        return f"part{int(span.start) if span else 0}".encode()


class GatedRecognizer(FakeRecognizer):
    """Answers a chunk only once the test opens its gate."""

    def __init__(self) -> None:
        super().__init__(max_chunk_seconds=150.0)
        self.sent: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    def open(self, text: str) -> None:
        self.gates.setdefault(text, asyncio.Event()).set()

    async def recognize(self, audio, profile, language, language_hint=None):  # type: ignore[no-untyped-def]
        text = audio.decode()
        self.sent.append(text)
        await self.gates.setdefault(text, asyncio.Event()).wait()
        return Recognition(text, "en")


def gated_world() -> tuple[World, GatedRecognizer]:
    world = World.build(max_chunk_seconds=150.0)
    recognizer = GatedRecognizer()
    converter = ChunkNamingConverter(world.files)
    tuning = Tuning(
        policy=TranscriptionPolicy(format_word_threshold=50, max_chunk_seconds=150.0),
        asr_concurrency=2,
    )
    world.app = bootstrap(world.ports(recognizer=recognizer, converter=converter), tuning)
    world.files.files["long"] = FakeAudio(TWELVE_MINUTES, "unused")
    return world, recognizer


async def send_long(world: World) -> None:
    source = AudioSource(MediaKind.VOICE, "long", "u-long", TWELVE_MINUTES)
    await world.app.bus.handle(AcceptVoiceNote("job", USER, USER, source))
    assert world.jobs.rows["job"].status is JobStatus.QUEUED


def drafts(world: World) -> list[str]:
    return [p.draft for _, p in world.messenger.progress if p.stage is Stage.RECOGNIZING]


async def test_stop_on_a_queued_job_removes_it_before_it_starts_and_charges_nothing() -> None:
    world, recognizer = gated_world()
    await send_long(world)
    balance = world.accounts.rows[USER].balance

    assert await world.app.bus.handle(StopJob("job", USER)) is StopResult.CANCELLED
    await world.app.consumer.consume_one(0)  # its queue message: dropped unprocessed

    job = world.jobs.rows["job"]
    account = world.accounts.rows[USER]
    assert job.status is JobStatus.CANCELLED and job.transcript is None
    assert (account.spent, account.reserved, account.balance) == (0, 0, balance + 12)
    assert recognizer.sent == [] and world.converter.conversions == [], "never started"
    [notice] = [n for _, n in world.messenger.notices if n.reason is NoticeReason.STOPPED]
    assert notice.charged_minutes == 0


async def test_stop_mid_recognition_delivers_the_recognized_part_and_charges_only_it() -> None:
    world, recognizer = gated_world()
    await send_long(world)
    working = asyncio.create_task(world.app.consumer.consume_one(0))
    await until(lambda: len(recognizer.sent) == 2, WAIT, "two chunks sent")
    recognizer.open("part0")
    await until(lambda: "part0" in drafts(world), WAIT, "the first chunk in the draft")

    assert await world.app.bus.handle(StopJob("job", USER)) is StopResult.STOPPING
    await finish(working, WAIT, "the stopped job")

    job = world.jobs.rows["job"]
    account = world.accounts.rows[USER]
    assert job.status is JobStatus.CANCELLED
    assert world.messenger.delivered == [("job", "part0")], "the part recognized, only it"
    assert (account.spent, account.reserved) == (3, 0), "ceil(150 s / 60) = 3, not 12"
    assert job.reserved_minutes == 3
    assert recognizer.sent == ["part0", "part150", "part300"], "no chunk sent after Stop"
    notice = world.messenger.notices[-1][1]
    assert notice.reason is NoticeReason.STOPPED and notice.charged_minutes == 3
    # The queue delivering the job again changes nothing: charged once.
    await world.queue.enqueue("job")
    await world.app.consumer.consume_one(0)
    assert world.accounts.rows[USER].spent == 3 and len(world.messenger.delivered) == 1


async def test_stop_before_any_chunk_is_recognized_charges_nothing() -> None:
    world, recognizer = gated_world()
    await send_long(world)
    working = asyncio.create_task(world.app.consumer.consume_one(0))
    await until(lambda: len(recognizer.sent) == 2, WAIT, "two chunks sent")

    assert await world.app.bus.handle(StopJob("job", USER)) is StopResult.STOPPING
    await finish(working, WAIT, "the stopped job")

    assert world.jobs.rows["job"].status is JobStatus.CANCELLED
    assert world.messenger.delivered == []
    assert (world.accounts.rows[USER].spent, world.accounts.rows[USER].reserved) == (0, 0)


async def test_a_stop_written_by_another_process_is_seen_between_chunks() -> None:
    """No in-process signal: only the stored state says Stop; the worker reads it after
    the next chunk it gets."""
    world, recognizer = gated_world()
    await send_long(world)
    working = asyncio.create_task(world.app.consumer.consume_one(0))
    await until(lambda: len(recognizer.sent) == 2, WAIT, "two chunks sent")
    stored = await world.jobs.get("job")
    assert stored is not None
    stored.request_stop(world.clock.now())
    await world.jobs.save(stored)
    recognizer.open("part0")
    await finish(working, WAIT, "the stopped job")

    assert world.jobs.rows["job"].status is JobStatus.CANCELLED
    assert world.messenger.delivered == [("job", "part0")]
    assert world.accounts.rows[USER].spent == 3


async def test_stop_after_delivery_changes_nothing() -> None:
    world, recognizer = gated_world()
    await send_long(world)
    for start in range(0, 720, 150):
        recognizer.open(f"part{start}")
    await world.app.consumer.consume_one(0)
    assert world.jobs.rows["job"].status is JobStatus.DELIVERED
    spent = world.accounts.rows[USER].spent

    assert await world.app.bus.handle(StopJob("job", USER)) is StopResult.FINISHED
    assert world.jobs.rows["job"].status is JobStatus.DELIVERED
    assert world.accounts.rows[USER].spent == spent == 12


async def test_only_the_sender_can_stop() -> None:
    world, _ = gated_world()
    await send_long(world)
    version = world.jobs.rows["job"].version

    assert await world.app.bus.handle(StopJob("job", STRANGER)) is StopResult.NOT_YOURS
    assert world.jobs.rows["job"].status is JobStatus.QUEUED
    assert world.jobs.rows["job"].version == version
    assert await world.app.bus.handle(StopJob("nope", USER)) is StopResult.UNKNOWN


async def test_the_draft_grows_in_order_whatever_order_chunks_finish() -> None:
    world, recognizer = gated_world()
    await send_long(world)
    working = asyncio.create_task(world.app.consumer.consume_one(0))
    await until(lambda: len(recognizer.sent) == 2, WAIT, "two chunks sent")

    recognizer.open("part150")  # the second chunk first: nothing to show yet
    await until(lambda: any(p.done == 1 for _, p in world.messenger.progress), WAIT, "1 done")
    assert all(d == "" for d in drafts(world)), "never a later passage before an earlier one"
    recognizer.open("part0")
    await until(lambda: "part0 part150" in drafts(world), WAIT, "both, in order")
    for start in (300, 450, 600):
        recognizer.open(f"part{start}")
    report = await finish(working, WAIT, "the job")

    shown = [d for d in drafts(world) if d]
    assert shown[0] == "part0 part150"
    assert all(b.startswith(a) for a, b in itertools.pairwise(shown)), shown
    assert shown[-1] == "part0 part150 part300 part450 part600"
    assert report is not None and report.status is JobStatus.DELIVERED
    with_eta = [p for _, p in world.messenger.progress if p.done and p.eta_seconds is not None]
    assert with_eta, "an ETA once a chunk is done"


async def test_a_recording_cut_into_cue_sized_chunks_for_subtitles_shows_its_draft() -> None:
    """Under ``ASR_CHUNK_SECONDS`` but wanted as subtitles from a recognizer without
    times: cut into cue-sized chunks, so it has a draft too."""
    world = World.build(max_chunk_seconds=150.0)
    world.recognizer.timed = False
    world.files.files["srt"] = FakeAudio(100.0, "some words here")
    source = AudioSource(MediaKind.VOICE, "srt", "u-srt", 100.0)
    style = UserStyle(output=OutputMode.SRT)
    await world.app.bus.handle(AcceptVoiceNote("srt", USER, USER, source, style=style))
    await world.app.consumer.consume_one(0)

    assert world.jobs.rows["srt"].status is JobStatus.DELIVERED
    assert any(p.total > 1 and p.draft for _, p in world.messenger.progress), "a draft"
