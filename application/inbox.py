"""The webhook's inbox: updates already stored and acknowledged, handled in the background.

Why this exists: Telegram needs only a quick 200; the bot's answer comes later. Each
update the webhook claimed (its body stored, see ``ProcessedUpdates``) is handed here,
handled by the ``handle(key, body)`` callback it was built with (the entrypoint's bridge
to the bot) when the admission gate lets it start, and then marked finished. What
a crash leaves unfinished is replayed: at start-up, and every ``REPLAY_EVERY_SECONDS``
while running, for updates claimed more than ``REPLAY_AFTER_SECONDS`` ago that this
process does not hold (their instance died; the handlers are idempotent where it
matters: a voice note's job id is its message, a payment's its charge id).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from application.ports import ProcessedUpdates

log = logging.getLogger(__name__)

REPLAY_AFTER_SECONDS = 300.0  # older unfinished updates belong to no live instance any more
REPLAY_EVERY_SECONDS = 60.0
REPLAY_BATCH = 1000
# Updates held in memory at most; beyond it acknowledgements wait for room, which slows
# Telegram's delivery instead of growing the backlog without bound (~4 KB each).
MAX_HELD = 10_000

HandleUpdate = Callable[[str, str], Awaitable[None]]


class Admission(Protocol):
    """When held work may start (the webhook lets acknowledgements go first)."""

    async def wait_turn(self, arrived_at: float) -> None: ...


class AdmitAtOnce:
    """No gate: work starts as soon as a worker is free."""

    async def wait_turn(self, arrived_at: float) -> None:
        return None


class Inbox:
    """Updates waiting in order, handled by at most ``concurrency`` workers that exist
    only while there is work (so a Function Compute invocation, which waits for the tasks
    its request started, waits exactly for the handling). A waiting update is kept as its
    body text, not as parsed objects: under a burst thousands wait, and parsed trees
    would make every pass of the garbage collector stall the loop for tens of ms."""

    def __init__(
        self,
        handle: HandleUpdate,
        processed: ProcessedUpdates,
        admission: Admission,
        *,
        concurrency: int,
        max_held: int = MAX_HELD,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._handle = handle
        self._processed = processed
        self._admission = admission
        self._concurrency = max(1, concurrency)
        self._clock = clock
        self._wall_clock = wall_clock
        self._room = asyncio.Semaphore(max(1, max_held))
        self._waiting: collections.deque[tuple[str, str, float]] = collections.deque()
        self._held: set[str] = set()
        self._workers: set[asyncio.Task[None]] = set()

    async def take(self, key: str, body: str) -> bool:
        """Claim the update (stored with its body) and queue it; ``False`` if it was
        claimed before (a redelivery). Raises the store's ``StorageError``: then nothing
        is held and Telegram, answered with an error, delivers it again."""
        await self._room.acquire()
        try:
            taken = await self._processed.claim(key, body)
        except BaseException:
            self._room.release()
            raise
        if not taken:
            self._room.release()
            return False
        self._hold(key, body)
        return True

    async def replay(self, claimed_before: float) -> int:
        """Queue unfinished updates claimed before ``claimed_before`` (epoch seconds)
        that this process does not hold; returns how many."""
        replayed = 0
        for key, payload in await self._processed.unfinished(claimed_before, REPLAY_BATCH):
            if key in self._held:
                continue
            log.warning("replaying %s, acknowledged but never finished", key)
            await self._room.acquire()
            self._hold(key, payload)
            replayed += 1
        return replayed

    async def replay_forever(self) -> None:
        """What ``replay`` does, every ``REPLAY_EVERY_SECONDS``, until cancelled."""
        while True:
            await asyncio.sleep(REPLAY_EVERY_SECONDS)
            try:
                await self.replay(self._wall_clock() - REPLAY_AFTER_SECONDS)
            except Exception:
                log.warning("inbox replay failed; trying again later", exc_info=True)

    async def drain(self, limit_seconds: float | None = None) -> bool:
        """Wait until every update held is handled, at most ``limit_seconds``; whether it
        was. Waiting is never what stops the handling, not even when it is cancelled."""
        loop = asyncio.get_running_loop()
        end = None if limit_seconds is None else loop.time() + limit_seconds
        while self._workers:
            remaining = None if end is None else end - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.wait(set(self._workers), timeout=remaining)
        return True

    @property
    def held(self) -> int:
        return len(self._held)

    def _hold(self, key: str, body: str) -> None:
        self._held.add(key)
        self._waiting.append((key, body, self._clock()))
        if len(self._workers) < self._concurrency:
            worker = asyncio.create_task(self._work())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)

    async def _work(self) -> None:
        while self._waiting:
            key, body, arrived_at = self._waiting.popleft()
            try:
                await self._admission.wait_turn(arrived_at)
                await self._process(key, body)
                try:
                    await self._processed.finish(key)
                except Exception:
                    log.warning("%s handled but not marked finished; it may be replayed", key)
            finally:
                self._held.discard(key)
                self._room.release()

    async def _process(self, key: str, body: str) -> None:
        try:
            await self._handle(key, body)
        except Exception:
            log.exception("%s failed", key)
