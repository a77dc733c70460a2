"""The inbox of Telegram updates: stored and acknowledged first, handled in the background.

Why this exists: Telegram needs only a quick acknowledgement (a 200 to the webhook, the
next ``getUpdates`` offset when polling); the bot's answer comes later. Each update
claimed (its body stored, see ``ProcessedUpdates``) is handed here, handled by the
``handle(key, body)`` callback it was built with (the entrypoint's bridge to the bot)
when the admission gate lets it start, and settled:

* handled: marked finished, never replayed;
* the handler raised: left unfinished and handled again after a backoff
  (``retry_delay``), at most ``UPDATE_MAX_ATTEMPTS`` times in all, then recorded as failed
  (its body kept) and reported to the owner once.

A claim is a lease (``UPDATE_LEASE_SECONDS``) that this instance renews while it holds
the update. Every ``REPLAY_EVERY_SECONDS`` (and at start-up) the inbox takes over the
unfinished updates whose lease ran out (their instance died), each by a conditional
write, so two instances never handle the same update; the handlers are idempotent where
it matters anyway (a voice note's job id is its message, a payment's its charge id).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Protocol

from application.ports import OwnerAlerts, ProcessedUpdates

log = logging.getLogger(__name__)

UPDATE_LEASE_SECONDS = 30.0  # a dead instance's updates are taken over this long after
REPLAY_EVERY_SECONDS = 5.0
REPLAY_BATCH = 1000
UPDATE_MAX_ATTEMPTS = 5
RETRY_FIRST_SECONDS = 2.0
RETRY_MAX_SECONDS = 60.0
ERROR_CHARS = 500  # of a failure's description, kept and sent to the owner
# Updates held in memory at most; beyond it acknowledgements wait for room, which slows
# Telegram's delivery instead of growing the backlog without bound (~4 KB each).
MAX_HELD = 10_000

HandleUpdate = Callable[[str, str], Awaitable[None]]


def retry_delay(failures: int, first: float, ceiling: float) -> float:
    """Seconds before the next attempt after ``failures`` failed ones: doubling from
    ``first``, never above ``ceiling``."""
    return float(min(ceiling, first * 2 ** min(max(failures - 1, 0), 30)))


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
    its request started, waits exactly for the handling, its retries included). A waiting
    update is kept as its body text, not as parsed objects: under a burst thousands wait,
    and parsed trees would make every pass of the garbage collector stall the loop for
    tens of ms."""

    def __init__(
        self,
        handle: HandleUpdate,
        processed: ProcessedUpdates,
        admission: Admission,
        *,
        alerts: OwnerAlerts,
        concurrency: int,
        max_held: int = MAX_HELD,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        lease_seconds: float = UPDATE_LEASE_SECONDS,
        replay_every_seconds: float = REPLAY_EVERY_SECONDS,
        max_attempts: int = UPDATE_MAX_ATTEMPTS,
        retry_first_seconds: float = RETRY_FIRST_SECONDS,
        retry_max_seconds: float = RETRY_MAX_SECONDS,
    ) -> None:
        self._handle = handle
        self._processed = processed
        self._admission = admission
        self._alerts = alerts
        self._concurrency = max(1, concurrency)
        self._clock = clock
        self._wall_clock = wall_clock
        self._lease_seconds = lease_seconds
        self._replay_every = replay_every_seconds
        self._max_attempts = max(1, max_attempts)
        self._retry_first = retry_first_seconds
        self._retry_max = retry_max_seconds
        self.holder = uuid.uuid4().hex  # this instance, in the leases it takes
        self._room = asyncio.Semaphore(max(1, max_held))
        self._waiting: collections.deque[tuple[str, str, float]] = collections.deque()
        self._held: dict[str, int] = {}  # key: its failed attempts so far
        self._workers: set[asyncio.Task[None]] = set()
        self._retries: set[asyncio.Task[None]] = set()
        self._renewer: asyncio.Task[None] | None = None
        self._nothing_held = asyncio.Event()

    async def take(self, key: str, body: str) -> bool:
        """Claim the update (stored with its body and this instance's lease) and queue it;
        ``False`` if it was claimed before (a redelivery). Raises the store's
        ``StorageError``: then nothing is held and Telegram delivers it again."""
        await self._room.acquire()
        try:
            taken = await self._processed.claim(
                key, body, holder=self.holder, lease_until=self._lease_end()
            )
        except BaseException:
            self._room.release()
            raise
        if not taken:
            self._room.release()
            return False
        self._hold(key, body, 0)
        return True

    async def replay(self) -> int:
        """Take over and queue the unfinished updates whose lease ran out (this instance
        holds none of them: it renews its own); returns how many."""
        replayed = 0
        now = self._wall_clock()
        for waiting in await self._processed.expired(now, REPLAY_BATCH):
            if waiting.key in self._held:
                continue
            await self._room.acquire()
            try:
                taken = await self._processed.take_over(
                    waiting.key, self.holder, now, self._lease_end()
                )
            except BaseException:
                self._room.release()
                raise
            if not taken:  # another instance was quicker
                self._room.release()
                continue
            log.warning("replaying %s, acknowledged but never finished", waiting.key)
            self._hold(waiting.key, waiting.payload, waiting.attempts)
            replayed += 1
        return replayed

    async def replay_forever(self) -> None:
        """What ``replay`` does, every ``REPLAY_EVERY_SECONDS``, until cancelled."""
        while True:
            await asyncio.sleep(self._replay_every)
            try:
                await self.replay()
            except Exception:
                log.warning("inbox replay failed; trying again later", exc_info=True)

    async def drain(self, limit_seconds: float | None = None) -> bool:
        """Wait until every update held is settled (handled, or given up on after its
        retries), at most ``limit_seconds``; whether it was. Waiting is never what stops
        the handling, not even when it is cancelled."""
        loop = asyncio.get_running_loop()
        end = None if limit_seconds is None else loop.time() + limit_seconds
        while self._workers or self._retries:
            remaining = None if end is None else end - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.wait({*self._workers, *self._retries}, timeout=remaining)
        return True

    async def close(self) -> None:
        """Stop waiting to retry and renewing leases: what is still held stays unfinished
        in the store, and its lease runs out for the next instance to take over."""
        pending = [*self._retries, *([self._renewer] if self._renewer else [])]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    @property
    def held(self) -> int:
        return len(self._held)

    def _lease_end(self) -> float:
        return self._wall_clock() + self._lease_seconds

    def _hold(self, key: str, body: str, attempts: int) -> None:
        self._held[key] = attempts
        self._nothing_held.clear()
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew_leases())
        self._queue(key, body)

    def _queue(self, key: str, body: str) -> None:
        self._waiting.append((key, body, self._clock()))
        if len(self._workers) < self._concurrency:
            worker = asyncio.create_task(self._work())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)

    def _release(self, key: str) -> None:
        if key not in self._held:
            return
        del self._held[key]
        self._room.release()
        if not self._held:
            self._nothing_held.set()

    async def _work(self) -> None:
        while self._waiting:
            key, body, arrived_at = self._waiting.popleft()
            settled = True
            try:
                await self._admission.wait_turn(arrived_at)
                settled = await self._attempt(key, body)
            finally:
                if settled:
                    self._release(key)

    async def _attempt(self, key: str, body: str) -> bool:
        """Handle the update once; whether it is settled (else a retry is scheduled)."""
        try:
            await self._handle(key, body)
        except Exception as error:
            return await self._failed(key, body, error)
        try:
            await self._processed.finish(key)
        except Exception:
            log.error("%s handled but not marked finished; it will be replayed", key)
        return True

    async def _failed(self, key: str, body: str, error: Exception) -> bool:
        attempts = self._held[key] + 1
        self._held[key] = attempts
        reason = f"{type(error).__name__}: {error}"[:ERROR_CHARS]
        if attempts >= self._max_attempts:
            log.error("%s failed %d times, given up: %s", key, attempts, reason)
            try:
                await self._processed.fail(key, attempts, reason, self._wall_clock())
            except Exception:
                log.error("%s could not be recorded as failed; it will be replayed", key)
            await self._alerts.alert(
                f"Update {key} could not be handled after {attempts} attempts and was "
                f"given up on (kept in the inbox): {reason}"
            )
            return True
        delay = retry_delay(attempts, self._retry_first, self._retry_max)
        log.warning("%s failed (attempt %d), retrying in %.0f s: %s", key, attempts, delay, reason)
        try:
            await self._processed.record_attempt(key, attempts)
        except Exception:
            log.warning("the attempts of %s not recorded; counting on in memory", key)
        retry = asyncio.create_task(self._retry_after(delay, key, body))
        self._retries.add(retry)
        retry.add_done_callback(self._retries.discard)
        return False

    async def _retry_after(self, delay: float, key: str, body: str) -> None:
        try:
            await asyncio.sleep(delay)
        except asyncio.CancelledError:
            self._release(key)  # closing: the store still has it unfinished
            raise
        self._queue(key, body)

    async def _renew_leases(self) -> None:
        """While anything is held, extend its leases every ``lease / 3`` seconds."""
        period = self._lease_seconds / 3
        while self._held:
            try:
                await asyncio.wait_for(self._nothing_held.wait(), period)
                continue  # nothing held now (or again something: look once more)
            except TimeoutError:
                pass
            try:
                await self._processed.renew(list(self._held), self.holder, self._lease_end())
            except Exception:
                log.warning("inbox leases not renewed; trying again", exc_info=True)
