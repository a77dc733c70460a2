"""Telegram update ids already taken, so a redelivered update is acknowledged and ignored,
and the webhook's inbox: an update's body is kept until it is handled.

The primary key makes the claim atomic across processes; old keys are pruned, since
Telegram stops redelivering an update after a day. Claims and finishes are group
committed: the webhook makes one of each per update, and under load they arrive by the
dozen, so they share transactions instead of queueing one commit each.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from infrastructure.sqlite.database import SqliteDatabase
from infrastructure.sqlite.group_commit import GroupCommit

KEEP_SECONDS = 2 * 24 * 3600
PRUNE_EVERY = 1000  # claims
_KEYS_PER_STATEMENT = 500  # well under SQLite's 32,766 parameters
_ROWS_PER_STATEMENT = 300  # three parameters a row


class SqliteProcessedUpdates:
    def __init__(self, db: SqliteDatabase, keep_seconds: float = KEEP_SECONDS) -> None:
        self._db = db
        self._keep_seconds = keep_seconds
        self._claims = 0
        self._claim_batches: GroupCommit[tuple[str, str, float], bool] = GroupCommit(
            db, self._insert
        )
        self._finish_batches: GroupCommit[str, None] = GroupCommit(db, _mark_finished)

    async def claim(self, key: str, payload: str = "") -> bool:
        return await self._claim_batches.submit((key, payload, time.time()))

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

    def _insert(
        self, conn: sqlite3.Connection, claims: Sequence[tuple[str, str, float]]
    ) -> list[bool]:
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
        keys = [key for key, _, _ in claims]
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
        fresh: dict[str, tuple[str, str, float]] = {}
        for claim in claims:
            if claim[0] not in taken_before:
                fresh.setdefault(claim[0], claim)
        rows = list(fresh.values())
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            batch = rows[start : start + _ROWS_PER_STATEMENT]
            conn.execute(
                "INSERT INTO processed_updates (update_key, payload, seen_at, finished) VALUES "
                + ", ".join(["(?, ?, ?, 0)"] * len(batch)),
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
