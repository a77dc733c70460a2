"""The inbox on a real SQLite store, with a stand-in for PTB that records what it handles."""

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
from entrypoints.http.ptb_bridge import PtbBridge
from infrastructure.sqlite import SqliteDatabase
from infrastructure.sqlite.updates import SqliteProcessedUpdates


class RecordingBot:
    """What the inbox needs of PTB's Application: a ``bot`` and ``process_update``."""

    def __init__(self) -> None:
        self.bot = None
        self.handled: list[int] = []
        self.release = asyncio.Event()
        self.release.set()

    async def process_update(self, update: Any) -> None:
        await self.release.wait()
        self.handled.append(update.update_id)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteProcessedUpdates]:
    db = SqliteDatabase(tmp_path / "inbox.sqlite3")
    yield SqliteProcessedUpdates(db)
    await db.close()


def body(update_id: int) -> str:
    return json.dumps({"update_id": update_id})


def make_inbox(ptb: RecordingBot, store: SqliteProcessedUpdates, **kwargs: Any) -> Inbox:
    admission = AckFirstAdmission(IngressActivity(), gap_seconds=0.0)
    return Inbox(PtbBridge(ptb), store, admission, **kwargs)  # type: ignore[arg-type]


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

    async def recorded_claim(key: str, payload: str) -> bool:
        claiming.append(key)
        return await claim(key, payload)

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
    replayed = await inbox.replay(time.time() + 10)
    assert replayed == 3, "1, 2 and the unreadable 3; 4 is held here already"
    ptb.release.set()
    await inbox.drain()
    assert sorted(ptb.handled) == [1, 2, 4]
    assert await store.unfinished(time.time() + 10, 100) == [], "3 is finished, never retried"
    assert await inbox.replay(time.time() + 10) == 0


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
