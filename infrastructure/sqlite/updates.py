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
        taken = []
        for key, payload, now in claims:
            cursor = conn.execute(
                "INSERT INTO processed_updates (update_key, seen_at, payload, finished) "
                "VALUES (?, ?, ?, 0) ON CONFLICT (update_key) DO NOTHING",
                (key, now, payload),
            )
            taken.append(cursor.rowcount == 1)
        return taken


def _mark_finished(conn: sqlite3.Connection, keys: Sequence[str]) -> list[None]:
    conn.executemany(
        "UPDATE processed_updates SET finished = 1, payload = '' WHERE update_key = ?",
        [(key,) for key in keys],
    )
    return [None] * len(keys)
