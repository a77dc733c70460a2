"""Erasing users' transcripts and settings in Tablestore: the ``UserDataEraser`` port.

Why this exists: ``/forget`` and the retention sweep delete a job for good, which in
Tablestore is three rows (layout in schema.py): its ``job_files`` row (the transcript
cache's index), its ``job_keys`` row (the way from its id), and the job row, with the
results of actions on it (``action_results``). The index rows and results go first and the
job row last, so a failure half-way leaves the job listed under its user and the next
erasure finishes it; the job row is deleted only while it still holds a finished status (a
conditional delete), which is also what counts it once. The tables' TTL (7 days) erases
every job anyway; the retention sweep matters when ``TRANSCRIPT_RETENTION_DAYS`` is
shorter. ``finished_before`` scans the jobs table (scan.py): the sweep runs it at most
hourly. A job row found unfinished is left whole, index rows included; a ``job_keys`` row
is deleted only while it still points at the erased job (its id may be taken again by a
new job).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from tablestore import (
    ComparatorType,
    CompositeColumnCondition,
    Condition,
    LogicalOperator,
    Row,
    RowExistenceExpectation,
    SingleColumnCondition,
)

from domain.jobs import JobStatus, VoiceJob
from infrastructure.tablestore import job_rows
from infrastructure.tablestore.action_results import erase_job as erase_action_results
from infrastructure.tablestore.connection import TablestoreConnection
from infrastructure.tablestore.errors import ConditionFailed
from infrastructure.tablestore.scan import scan
from infrastructure.tablestore.schema import JOBS_KEY

_ANY = Condition(RowExistenceExpectation.IGNORE)


_FINISHED = frozenset(status.value for status in JobStatus if status.is_finished)


def _same_job(job: VoiceJob) -> Condition:
    """The id's row points at this very job (an erased id may be taken by a new job)."""
    check = SingleColumnCondition(
        "created_us",
        job_rows.created_us(job.created_at),
        ComparatorType.EQUAL,
        pass_if_missing=False,
    )
    return Condition(RowExistenceExpectation.EXPECT_EXIST, check)


def _still_finished() -> Condition:
    """The row exists and its status is one of the finished ones."""
    either = CompositeColumnCondition(LogicalOperator.OR)
    for status in JobStatus:
        if status.is_finished:
            either.add_sub_condition(
                SingleColumnCondition(
                    "status", status.value, ComparatorType.EQUAL, pass_if_missing=False
                )
            )
    return Condition(RowExistenceExpectation.EXPECT_EXIST, either)


class TablestoreUserDataEraser:
    def __init__(self, connection: TablestoreConnection) -> None:
        self._db = connection
        self._tables = connection.tables

    async def erase_jobs(self, jobs: Sequence[VoiceJob]) -> int:
        return sum([await self._erase(job) for job in jobs])

    async def _erase(self, job: VoiceJob) -> bool:
        key = job_rows.key_of(job)
        if not await self._finished_or_gone(key):
            return False
        by_file = [("file_unique_id", job.source.file_unique_id), *key[1:]]
        await erase_action_results(self._db, job.job_id)  # summaries, translations (#17)
        await self._delete(self._tables.job_files, by_file, _ANY)
        with contextlib.suppress(ConditionFailed):  # gone, or the id is another job's now
            await self._delete(self._tables.job_keys, [("job_id", job.job_id)], _same_job(job))
        try:
            await self._delete(self._tables.jobs, key, _still_finished())
        except ConditionFailed:
            return False  # gone already (or, impossibly, unfinished again): not counted
        return True

    async def _finished_or_gone(self, key: list[tuple[str, Any]]) -> bool:
        """The job row's status is a finished one (then it stays so), or there is no row
        (an erasure that failed half-way may have left index rows to finish)."""
        _, row, _ = await self._db.call(
            f"GetRow {self._tables.jobs}",
            lambda client: client.get_row(self._tables.jobs, key, ["status"], max_version=1),
            idempotent=True,
        )
        if row is None:
            return True
        cells = {cell[0]: cell[1] for cell in row.attribute_columns}
        return cells.get("status") in _FINISHED

    async def finished_before(self, updated_before: float, limit: int) -> Sequence[VoiceJob]:
        rows = await scan(self._db, self._tables.jobs, [name for name, _ in JOBS_KEY])
        jobs = [job_rows.from_row(row.primary_key, row.attribute_columns) for row in rows]
        old = [j for j in jobs if j.status.is_finished and j.updated_at < updated_before]
        return sorted(old, key=lambda job: job.updated_at)[: max(limit, 0)]

    async def erase_settings(self, user_id: int) -> bool:
        try:
            await self._delete(
                self._tables.settings,
                [("user_id", user_id)],
                Condition(RowExistenceExpectation.EXPECT_EXIST),
            )
        except ConditionFailed:
            return False
        return True

    async def _delete(self, table: str, key: list[tuple[str, Any]], when: Condition) -> None:
        """A retried delete that did run answers ``ConditionFailed`` the second time
        (the row is gone): for the counted ones that reads as "erased already", which
        is at worst one erasure not counted, never a row left behind."""
        await self._db.call(
            f"DeleteRow {table}",
            lambda client: client.delete_row(table, Row(key), when),
            idempotent=True,
        )
