"""Results of actions on transcripts in Tablestore: the ``ActionResultRepository`` port.

Why this exists: the cloud deployment keeps a summary, a list of action items or a
translation next to its transcript, so a second press answers from here, free. Table
``<prefix>action_results``, PK ``(job_id STRING, action_key STRING)`` (schema.py), expiring
with the jobs. A result is inserted with ``EXPECT_NOT_EXIST``, so of two racing presses the
first stays (``add`` says ``False`` to the second); an insert whose answer was lost raises a
transient ``StorageError`` and is not resent (it may have landed: the next press reads it).
``erase_job`` (``/forget`` and the retention sweep, through the eraser) reads the job's
results by key range and deletes them.
"""

from __future__ import annotations

from typing import Any

from tablestore import INF_MAX, INF_MIN, Condition, Direction, Row, RowExistenceExpectation

from domain.transcript_actions import ActionResult
from infrastructure.tablestore.connection import TablestoreConnection
from infrastructure.tablestore.errors import ConditionFailed

_NEW = Condition(RowExistenceExpectation.EXPECT_NOT_EXIST)
_ANY = Condition(RowExistenceExpectation.IGNORE)
# A job has a handful of results (summary, action items, a few translations): one page.
_RESULTS_PER_JOB = 100


class TablestoreActionResults:
    def __init__(self, connection: TablestoreConnection) -> None:
        self._db = connection
        self._table = connection.tables.action_results

    async def get(self, job_id: str, key: str) -> ActionResult | None:
        _, row, _ = await self._db.call(
            f"get action result {key} of {job_id}",
            lambda client: client.get_row(self._table, _key(job_id, key), max_version=1),
            idempotent=True,
        )
        if row is None:
            return None
        cells = {cell[0]: cell[1] for cell in row.attribute_columns}
        return ActionResult(
            job_id=job_id,
            key=key,
            user_id=int(cells["user_id"]),
            text=str(cells["text"]),
            provider=str(cells["provider"]),
            prompt_version=int(cells["prompt_version"]),
            created_at=float(cells["created_at"]),
        )

    async def add(self, result: ActionResult) -> bool:
        columns: list[tuple[str, Any]] = [
            ("user_id", result.user_id),
            ("text", result.text),
            ("provider", result.provider),
            ("prompt_version", result.prompt_version),
            ("created_at", float(result.created_at)),
        ]
        row = Row(_key(result.job_id, result.key), columns)
        try:
            await self._db.call(
                f"add action result {result.key} of {result.job_id}",
                lambda client: client.put_row(self._table, row, _NEW),
                idempotent=False,
            )
        except ConditionFailed:
            return False
        return True


async def erase_job(connection: TablestoreConnection, job_id: str) -> int:
    """Delete every action result of the job ``job_id``; how many there were."""
    table = connection.tables.action_results
    start = [("job_id", job_id), ("action_key", INF_MIN)]
    end = [("job_id", job_id), ("action_key", INF_MAX)]
    _, _, rows, _ = await connection.call(
        f"GetRange {table}",
        lambda client: client.get_range(
            table, Direction.FORWARD, start, end, limit=_RESULTS_PER_JOB, max_version=1
        ),
        idempotent=True,
    )
    for row in rows:
        await _delete(connection, table, Row(row.primary_key))
    return len(rows)


async def _delete(connection: TablestoreConnection, table: str, row: Row) -> None:
    await connection.call(
        f"DeleteRow {table}",
        lambda client: client.delete_row(table, row, _ANY),
        idempotent=True,
    )


def _key(job_id: str, key: str) -> list[tuple[str, Any]]:
    return [("job_id", job_id), ("action_key", key)]
