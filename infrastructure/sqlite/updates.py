"""Telegram update ids already taken, so a redelivered update is acknowledged and ignored,
and the inbox: an update's body is kept until it is handled or given up on.

The primary key makes the claim atomic across processes; old keys are pruned, since
Telegram stops redelivering an update after a day. Claims and finishes are group
committed: the webhook makes one of each per update, and under load they arrive by the
dozen, so they share transactions instead of queueing one commit each. A claim is a
lease (``holder``, ``lease_expires_at``); a take-over is one conditional ``UPDATE``, so of
two processes racing for an update whose lease ran out exactly one wins.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from application.ports import FailedUpdate, WaitingUpdate
from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.group_commit import GroupCommit

KEEP_SECONDS = 2 * 24 * 3600
PRUNE_EVERY = 1000  # claims
_KEYS_PER_STATEMENT = 500  # well under SQLite's 32,766 parameters
_ROWS_PER_STATEMENT = 200  # five parameters a row

Claim = tuple[str, str, float, str, float]  # key, payload, seen at, holder, lease until


class SqliteProcessedUpdates:
    def __init__(self, db: SqliteDatabase, keep_seconds: float = KEEP_SECONDS) -> None:
        self._db = db
        self._keep_seconds = keep_seconds
        self._claims = 0
        self._claim_batches: GroupCommit[Claim, bool] = GroupCommit(db, self._insert)
        self._finish_batches: GroupCommit[str, None] = GroupCommit(db, _mark_finished)

    async def claim(
        self, key: str, payload: str = "", *, holder: str = "", lease_until: float = 0.0
    ) -> bool:
        return await self._claim_batches.submit((key, payload, time.time(), holder, lease_until))

    async def finish(self, key: str) -> None:
        await self._finish_batches.submit(key)

    async def unfinished(self, claimed_before: float, limit: int) -> list[tuple[str, str]]:
        def select(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            rows = conn.execute(
                "SELECT update_key, payload FROM processed_updates "
                "WHERE finished = 0 AND seen_at < ? ORDER BY seen_at LIMIT ?",
                (claimed_before, limit),
            ).fetchall()
            return [(str(row[0]), str(row[1])) for row in rows]

        return await self._db.read(select)

    async def expired(self, now: float, limit: int) -> list[WaitingUpdate]:
        def select(conn: sqlite3.Connection) -> list[WaitingUpdate]:
            rows = conn.execute(
                "SELECT update_key, payload, attempts FROM processed_updates "
                "WHERE finished = 0 AND lease_expires_at < ? ORDER BY seen_at LIMIT ?",
                (now, limit),
            ).fetchall()
            return [WaitingUpdate(str(key), str(body), int(n)) for key, body, n in rows]

        return await self._db.read(select)

    async def take_over(self, key: str, holder: str, now: float, lease_until: float) -> bool:
        def update(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "UPDATE processed_updates SET holder = ?, lease_expires_at = ? "
                "WHERE update_key = ? AND finished = 0 AND lease_expires_at < ?",
                (holder, lease_until, key, now),
            )
            return cursor.rowcount == 1

        return await self._db.transaction(update)

    async def renew(self, keys: Sequence[str], holder: str, lease_until: float) -> None:
        def update(conn: sqlite3.Connection) -> None:
            for start in range(0, len(keys), _KEYS_PER_STATEMENT):
                part = list(keys[start : start + _KEYS_PER_STATEMENT])
                marks = ", ".join("?" * len(part))
                conn.execute(
                    "UPDATE processed_updates SET lease_expires_at = ? "
                    f"WHERE holder = ? AND finished = 0 AND update_key IN ({marks})",
                    [lease_until, holder, *part],
                )

        if keys:
            await self._db.transaction(update)

    async def record_attempt(self, key: str, attempts: int) -> None:
        await self._db.transaction(
            lambda conn: conn.execute(
                "UPDATE processed_updates SET attempts = ? WHERE update_key = ?", (attempts, key)
            )
        )

    async def fail(self, key: str, attempts: int, error: str, failed_at: float) -> None:
        await self._db.transaction(
            lambda conn: conn.execute(
                "UPDATE processed_updates SET finished = 1, attempts = ?, error = ?, "
                "failed_at = ? WHERE update_key = ?",
                (attempts, error, failed_at, key),
            )
        )

    async def failed(self, limit: int) -> list[FailedUpdate]:
        def select(conn: sqlite3.Connection) -> list[FailedUpdate]:
            rows = conn.execute(
                "SELECT update_key, payload, attempts, error, failed_at FROM processed_updates "
                "WHERE failed_at IS NOT NULL ORDER BY failed_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
            return [
                FailedUpdate(str(key), str(body), int(n), str(error or ""), float(at))
                for key, body, n, error, at in rows
            ]

        return await self._db.read(select)

    def _insert(self, conn: sqlite3.Connection, claims: Sequence[Claim]) -> list[bool]:
        """On the database thread, inside the batch's transaction."""
        before = self._claims
        self._claims += len(claims)
        if before // PRUNE_EVERY != self._claims // PRUNE_EVERY or before == 0:
            oldest = claims[0][2] - self._keep_seconds
            conn.execute("DELETE FROM processed_updates WHERE seen_at < ?", (oldest,))
        # A fixed handful of statements per batch, whatever its size: between statements
        # this thread must win the GIL back from the busy event loop, which can take a
        # switch interval (5 ms) each time, so one statement per row made a batch of 40
        # take 3-8 ms under load. The keys already taken are read first; the rest are
        # inserted by one statement; within the batch the first of a key wins.
        keys = [claim[0] for claim in claims]
        taken_before: set[str] = set()
        for start in range(0, len(keys), _KEYS_PER_STATEMENT):
            part = keys[start : start + _KEYS_PER_STATEMENT]
            marks = ", ".join("?" * len(part))
            taken_before.update(
                row[0]
                for row in conn.execute(
                    f"SELECT update_key FROM processed_updates WHERE update_key IN ({marks})",
                    part,
                )
            )
        fresh: dict[str, Claim] = {}
        for claim in claims:
            if claim[0] not in taken_before:
                fresh.setdefault(claim[0], claim)
        rows = list(fresh.values())
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            batch = rows[start : start + _ROWS_PER_STATEMENT]
            conn.execute(
                "INSERT INTO processed_updates"
                " (update_key, payload, seen_at, holder, lease_expires_at, finished) VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, 0)"] * len(batch)),
                [value for row in batch for value in row],
            )
        results = []
        for key in keys:
            results.append(fresh.pop(key, None) is not None)
        return results


def _mark_finished(conn: sqlite3.Connection, keys: Sequence[str]) -> list[None]:
    conn.executemany(
        "UPDATE processed_updates SET finished = 1, payload = '' WHERE update_key = ?",
        [(key,) for key in keys],
    )
    return [None] * len(keys)
