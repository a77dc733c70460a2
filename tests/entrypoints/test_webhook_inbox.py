"""The inbox on a real SQLite store, with a stand-in for PTB that records what it handles
(and fails when told to, as the bridge does when a PTB handler raised)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from application.inbox import Inbox
from entrypoints.http.ack_first import AckFirstAdmission, IngressActivity
from entrypoints.telegram.update_bridge import PtbBridge
from infrastructure.sqlite import SqliteDatabase
from infrastructure.sqlite.updates import SqliteProcessedUpdates
from tests.bounded_waits import finish


class RecordingBot:
    """What the inbox needs of PTB's Application: a ``bot`` and ``process_update``."""

    def __init__(self) -> None:
        self.bot = None
        self.handled: list[int] = []
        self.tries: list[int] = []
        self.failures_left: dict[int, int] = {}
        self.release = asyncio.Event()
        self.release.set()

    async def process_update(self, update: Any) -> None:
        await self.release.wait()
        self.tries.append(update.update_id)
        if self.failures_left.get(update.update_id, 0) > 0:
            self.failures_left[update.update_id] -= 1
            raise ConnectionError(f"Telegram answered 500 for update {update.update_id}")
        self.handled.append(update.update_id)


class RecordingAlerts:
    def __init__(self) -> None:
        self.texts: list[str] = []

    async def alert(self, text: str) -> None:
        self.texts.append(text)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteProcessedUpdates]:
    db = SqliteDatabase(tmp_path / "inbox.sqlite3")
    yield SqliteProcessedUpdates(db)
    await db.close()


def body(update_id: int) -> str:
    return json.dumps({"update_id": update_id})


FAST_RETRIES = {"retry_first_seconds": 0.01, "retry_max_seconds": 0.05}


def make_inbox(
    ptb: RecordingBot,
    store: SqliteProcessedUpdates,
    alerts: RecordingAlerts | None = None,
    **kwargs: Any,
) -> Inbox:
    admission = AckFirstAdmission(IngressActivity(), gap_seconds=0.0)
    alerts = alerts or RecordingAlerts()
    return Inbox(PtbBridge(ptb), store, admission, alerts=alerts, **kwargs)


async def test_every_update_taken_is_handled_once_and_finished(
    store: SqliteProcessedUpdates,
) -> None:
    ptb = RecordingBot()
    inbox = make_inbox(ptb, store, concurrency=4)
    taken = [await inbox.take(f"update:{i}", body(i)) for i in (*range(10), 3, 7)]
    assert taken == [True] * 10 + [False, False], "redeliveries are not taken twice"
    await inbox.drain()
    assert sorted(ptb.handled) == list(range(10))
    assert await store.unfinished(time.time() + 10, 100) == []
    assert inbox.held == 0


async def test_a_full_inbox_makes_the_next_acknowledgement_wait_for_room(
    store: SqliteProcessedUpdates, monkeypatch: pytest.MonkeyPatch
) -> None:
    ptb = RecordingBot()
    ptb.release.clear()  # handling is stuck
    inbox = make_inbox(ptb, store, concurrency=2, max_held=3)
    for i in range(3):
        assert await inbox.take(f"update:{i}", body(i))
    claiming: list[str] = []
    claim = store.claim

    async def recorded_claim(key: str, payload: str, **lease: Any) -> bool:
        claiming.append(key)
        return await claim(key, payload, **lease)

    monkeypatch.setattr(store, "claim", recorded_claim)
    fourth = asyncio.create_task(inbox.take("update:3", body(3)))
    await asyncio.sleep(0)  # the take runs up to where it waits: for room, or for the store
    assert claiming == [], "no room: the acknowledgement waits (Telegram slows down)"
    assert not fourth.done()
    ptb.release.set()
    assert await asyncio.wait_for(fourth, 5)
    await inbox.drain()
    assert sorted(ptb.handled) == [0, 1, 2, 3]


async def test_replay_takes_what_a_dead_instance_left_but_not_what_this_one_holds(
    store: SqliteProcessedUpdates,
) -> None:
    for i in (1, 2):
        assert await store.claim(f"update:{i}", body(i))  # claimed by an instance that died
    assert await store.claim("update:3", "not json")
    ptb = RecordingBot()
    ptb.release.clear()
    inbox = make_inbox(ptb, store, concurrency=1)
    assert await inbox.take("update:4", body(4))
    replayed = await inbox.replay()
    assert replayed == 3, "1, 2 and the unreadable 3; 4 is held here already"
    ptb.release.set()
    await inbox.drain()
    assert sorted(ptb.handled) == [1, 2, 4]
    assert await store.unfinished(time.time() + 10, 100) == [], "3 is finished, never retried"
    assert await inbox.replay() == 0


async def test_waiting_for_the_inbox_gives_up_in_time_and_stops_nothing(
    store: SqliteProcessedUpdates,
) -> None:
    ptb = RecordingBot()
    ptb.release.clear()
    inbox = make_inbox(ptb, store, concurrency=1)
    assert await inbox.take("update:1", body(1))
    assert await inbox.drain(0.1) is False, "still handling"
    ptb.release.set()
    assert await inbox.drain(5) is True
    assert ptb.handled == [1], "the handling went on after the wait gave up"


async def wait_until(condition: Any, seconds: float = 30.0, what: str = "the condition") -> None:
    """Poll ``condition`` (sync or async) until true; an AssertionError after ``seconds``."""

    async def poll() -> None:
        while True:
            result = condition()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.01)

    await finish(asyncio.create_task(poll()), seconds, what)


async def test_a_failed_handling_leaves_the_update_unfinished_and_retries_it(
    store: SqliteProcessedUpdates,
) -> None:
    ptb = RecordingBot()
    ptb.failures_left[1] = 2
    alerts = RecordingAlerts()
    inbox = make_inbox(ptb, store, alerts, concurrency=2, **FAST_RETRIES)
    assert await inbox.take("update:1", body(1))

    assert await inbox.drain(30)
    assert ptb.tries == [1, 1, 1], "failed twice, handled the third time"
    assert ptb.handled == [1]
    assert await store.unfinished(time.time() + 10, 10) == [], "finished once handled"
    assert alerts.texts == []


async def test_an_update_that_keeps_failing_is_unfinished_until_given_up(
    store: SqliteProcessedUpdates,
) -> None:
    ptb = RecordingBot()
    ptb.failures_left[1] = 1
    ptb.release.clear()
    inbox = make_inbox(ptb, store, concurrency=1, retry_first_seconds=60, retry_max_seconds=60)
    assert await inbox.take("update:1", body(1))
    ptb.release.set()
    await wait_until(lambda: ptb.tries == [1], what="the first attempt")
    left = [(w.key, w.attempts) for w in await store.expired(time.time() + 3600, 10)]
    await wait_until(
        lambda: _attempts_recorded(store, "update:1", 1), what="the failed attempt recorded"
    )

    assert [key for key, _ in left] == ["update:1"], "not finished after a failure"
    assert await store.unfinished(time.time() + 10, 10) == [("update:1", body(1))]
    assert await inbox.drain(0.05) is False, "waiting to retry"
    await inbox.close()


async def _attempts_recorded(store: SqliteProcessedUpdates, key: str, attempts: int) -> bool:
    return [(w.key, w.attempts) for w in await store.expired(time.time() + 3600, 10)] == [
        (key, attempts)
    ]


async def test_after_its_last_attempt_an_update_is_recorded_failed_and_the_owner_told_once(
    store: SqliteProcessedUpdates,
) -> None:
    ptb = RecordingBot()
    ptb.failures_left[1] = 100
    alerts = RecordingAlerts()
    inbox = make_inbox(ptb, store, alerts, concurrency=2, max_attempts=3, **FAST_RETRIES)
    assert await inbox.take("update:1", body(1))
    assert await inbox.take("update:2", body(2))
    assert await inbox.drain(30)

    assert ptb.tries.count(1) == 3 and ptb.handled == [2]
    [failed] = await store.failed(10)
    assert (failed.key, failed.payload, failed.attempts) == ("update:1", body(1), 3)
    assert "Telegram answered 500 for update 1" in failed.error
    assert len(alerts.texts) == 1 and "update:1" in alerts.texts[0]
    assert await store.unfinished(time.time() + 10, 10) == []
    assert await inbox.replay() == 0, "a failed update is never replayed"
    assert not await inbox.take("update:1", body(1)), "nor taken again when redelivered"
    assert ptb.tries.count(1) == 3


async def test_two_inboxes_on_one_store_never_both_handle_an_update(tmp_path: Path) -> None:
    first_db = SqliteDatabase(tmp_path / "inbox.sqlite3")
    second_db = SqliteDatabase(tmp_path / "inbox.sqlite3")  # another process, same file
    try:
        stores = [SqliteProcessedUpdates(first_db), SqliteProcessedUpdates(second_db)]
        for i in range(40):  # left by an instance that died: no live lease
            assert await stores[0].claim(f"update:{i}", body(i))
        bots = [RecordingBot(), RecordingBot()]
        inboxes = [
            make_inbox(bot, store, concurrency=4) for bot, store in zip(bots, stores, strict=True)
        ]
        replayed = await asyncio.gather(*(inbox.replay() for inbox in inboxes))
        # And Telegram redelivers some of them to each instance at the same time.
        taken = await asyncio.gather(
            *(inbox.take(f"update:{i}", body(i)) for inbox in inboxes for i in range(30, 50))
        )
        for inbox in inboxes:
            assert await inbox.drain(30)

        handled = bots[0].handled + bots[1].handled
        assert sorted(handled) == list(range(50)), "each update handled exactly once"
        assert sum(replayed) == 40
        assert sum(taken) == 10, "40..49 were new: each taken by one of the two"
    finally:
        await first_db.close()
        await second_db.close()


class CountingStore(SqliteProcessedUpdates):
    """The real store, counting the inbox's looks for expired leases."""

    looks = 0

    async def expired(self, now: float, limit: int) -> Any:
        self.looks += 1
        return await super().expired(now, limit)


async def test_a_live_holder_keeps_its_update_and_a_dead_ones_is_taken_over_when_its_lease_ends(
    tmp_path: Path,
) -> None:
    lease = 0.6
    live_db, other_db = (SqliteDatabase(tmp_path / "inbox.sqlite3") for _ in range(2))
    live_store, other_store = SqliteProcessedUpdates(live_db), CountingStore(other_db)
    live_bot, other_bot = RecordingBot(), RecordingBot()
    live_bot.release.clear()  # the live instance is busy with its update for a while
    live = make_inbox(live_bot, live_store, concurrency=1, lease_seconds=lease)
    other = make_inbox(
        other_bot, other_store, concurrency=1, lease_seconds=lease, replay_every_seconds=0.05
    )
    try:
        assert await live.take("update:1", body(1))
        dead_lease_ends = time.time() + lease
        assert await live_store.claim(  # an instance that died right after claiming
            "update:2", body(2), holder="dead", lease_until=dead_lease_ends
        )
        replaying = asyncio.create_task(other.replay_forever())
        await wait_until(lambda: other_bot.handled == [2], what="the dead one's update")
        taken_after = time.time()
        looks = other_store.looks
        # Several leases later the live instance still holds update 1 (it renews).
        await wait_until(
            lambda: other_store.looks >= looks + 10 and time.time() > taken_after + 3 * lease,
            what="replays over several lease periods",
        )
        assert other_bot.tries == [2], "the live instance's update is not taken over"
        assert taken_after >= dead_lease_ends, "not before the dead one's lease ended"
        live_bot.release.set()
        assert await live.drain(30)
        assert live_bot.handled == [1]
        replaying.cancel()
        await asyncio.gather(replaying, return_exceptions=True)
        assert await live_store.unfinished(time.time() + 10, 10) == []
    finally:
        await live.close()
        await other.close()
        await live_db.close()
        await other_db.close()
