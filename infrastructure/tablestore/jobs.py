"""Voice jobs in Tablestore: the ``JobRepository`` port, with optimistic concurrency.

Why this exists: the cloud deployment keeps jobs in Tablestore (layout in schema.py). A job
is added with ``EXPECT_NOT_EXIST`` and each save is an UpdateRow that runs only if the row
exists and its ``version`` column still equals the version that was read, so of two
workers that claim the same job only one save lands; the other gets ``ConcurrentUpdate``.
Every write's outcome is checked; nothing is swallowed. Lookups by id (``job_keys``) and by
file (``job_files``, the transcript cache) go through index rows written once by ``add``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from tablestore import (
    INF_MAX,
    INF_MIN,
    ComparatorType,
    Condition,
    Direction,
    Row,
    RowExistenceExpectation,
    SingleColumnCondition,
)

from application.errors import ConcurrentUpdate, StorageError
from domain.jobs import JobStatus, UserStyle, VoiceJob
from infrastructure.records import OPTIONAL_JOB_COLUMNS
from infrastructure.tablestore import job_rows
from infrastructure.tablestore.connection import TablestoreConnection
from infrastructure.tablestore.errors import ConditionFailed
from infrastructure.tablestore.scan import scan
from infrastructure.tablestore.schema import JOBS_KEY

_NEW = Condition(RowExistenceExpectation.EXPECT_NOT_EXIST)
_ANY = Condition(RowExistenceExpectation.IGNORE)
TRANSCRIPT_CANDIDATES = 50  # the newest jobs of one file looked at by the transcript cache


def version_is(version: int) -> Condition:
    """The row exists and its ``version`` column equals ``version`` (missing: fails)."""
    check = SingleColumnCondition("version", version, ComparatorType.EQUAL, pass_if_missing=False)
    return Condition(RowExistenceExpectation.EXPECT_EXIST, check)


class TablestoreJobRepository:
    def __init__(self, connection: TablestoreConnection) -> None:
        self._db = connection
        self._jobs = connection.tables.jobs
        self._keys = connection.tables.job_keys
        self._files = connection.tables.job_files

    async def add(self, job: VoiceJob) -> bool:
        """Claim the id in ``job_keys``, index the file in ``job_files``, then write the job
        row. If an earlier ``add`` of this same job claimed the id but failed before writing
        the row, this one finishes it; an id held by any other job, or a complete job,
        gives ``False``."""
        created = job_rows.created_us(job.created_at)
        claim = Row([("job_id", job.job_id)], [("user_id", job.user_id), ("created_us", created)])
        try:
            await self._write(f"add {job.job_id} (id)", self._keys, claim, _NEW)
        except ConditionFailed:
            if not await self._adopt_claim(job, created):
                return False
        file_key = [("file_unique_id", job.source.file_unique_id), *job_rows.key_of(job)[1:]]
        by_file = Row(file_key, [("user_id", job.user_id)])
        await self._write(f"add {job.job_id} (file)", self._files, by_file, _ANY)
        row = Row(job_rows.key_of(job), job_rows.present(job_rows.columns(job)))
        try:
            await self._write(f"add {job.job_id}", self._jobs, row, _NEW)
        except ConditionFailed:
            return False
        return True

    async def _adopt_claim(self, job: VoiceJob, created: int) -> bool:
        """The id is claimed already: by an earlier ``add`` of this job that failed before
        its row was written (then this one finishes it, under the claim's creation time:
        a replayed update builds the job anew, with a later clock), or by another job."""
        owner = await self._owner(job.job_id)
        if owner is None or owner[0] != job.user_id:
            return False
        if owner[1] != created:
            if await self._job_at(job.job_id, *owner) is not None:
                return False
            job.created_at = owner[1] / 1_000_000
        return True

    async def get(self, job_id: str) -> VoiceJob | None:
        owner = await self._owner(job_id)
        return None if owner is None else await self._job_at(job_id, *owner)

    async def save(self, job: VoiceJob) -> None:
        values = job_rows.columns(job)
        values["version"] = job.version + 1
        changes: dict[str, list[Any]] = {"put": job_rows.present(values)}
        gone = [name for name in OPTIONAL_JOB_COLUMNS if values[name] is None]
        if gone:
            changes["delete_all"] = gone
        row = Row(job_rows.key_of(job), changes)
        try:
            await self._db.call(
                f"save {job.job_id}",
                lambda client: client.update_row(self._jobs, row, version_is(job.version)),
                idempotent=False,
            )
        except ConditionFailed as failed:
            if await self._get_row(self._jobs, job_rows.key_of(job), ["version"]) is None:
                raise StorageError(
                    f"job {job.job_id} is not stored; add it first", transient=False
                ) from failed
            raise ConcurrentUpdate(
                f"job {job.job_id} changed since version {job.version}"
            ) from failed
        job.version += 1

    async def list_by_user(self, user_id: int, limit: int) -> Sequence[VoiceJob]:
        rows = await self._newest(self._jobs, ("user_id", user_id), limit)
        return [job_rows.from_row(row.primary_key, row.attribute_columns) for row in rows]

    async def list_unfinished(self, updated_before: float, limit: int) -> Sequence[VoiceJob]:
        """A scan of every job row (scan.py: its cost grows with the table, which the TTL
        bounds to 7 days of jobs), filtered and ordered here: for the stuck-job flush."""
        stuck = [
            job
            for job in await self._all()
            if not job.status.is_finished and job.updated_at < updated_before
        ]
        return sorted(stuck, key=lambda job: job.updated_at)[: max(limit, 0)]

    async def list_since(self, created_since: float, limit: int) -> Sequence[VoiceJob]:
        """A scan of every job row like ``list_unfinished``: for statistics and export."""
        recent = [job for job in await self._all() if job.created_at >= created_since]
        return sorted(recent, key=lambda job: job.created_at, reverse=True)[: max(limit, 0)]

    async def find_transcript(self, file_unique_id: str, style: UserStyle) -> VoiceJob | None:
        """Among the newest jobs of this file (``job_files``), the delivered one updated
        last whose text reads the same with ``style``."""
        index = await self._newest(
            self._files, ("file_unique_id", file_unique_id), TRANSCRIPT_CANDIDATES
        )
        found = await asyncio.gather(*(self._job_at(*_indexed(row)) for row in index))
        done = [
            job
            for job in found
            if job is not None
            and job.status is JobStatus.DELIVERED
            and job.style.same_result_as(style)
        ]
        return max(done, key=lambda job: job.updated_at, default=None)

    async def _all(self) -> list[VoiceJob]:
        rows = await scan(self._db, self._jobs, [name for name, _ in JOBS_KEY])
        return [job_rows.from_row(row.primary_key, row.attribute_columns) for row in rows]

    async def _job_at(self, job_id: str, user_id: int, created: int) -> VoiceJob | None:
        row = await self._get_row(self._jobs, job_rows.job_key(job_id, user_id, created))
        return None if row is None else job_rows.from_row(row.primary_key, row.attribute_columns)

    async def _newest(self, table: str, first: tuple[str, Any], limit: int) -> list[Row]:
        """Up to ``limit`` rows of a ``(first, created_us, job_id)`` table whose first key
        column is ``first``, newest first: backward GetRange, paged if the service returns
        fewer rows than asked."""
        start = [first, ("created_us", INF_MAX), ("job_id", INF_MAX)]
        end = [first, ("created_us", INF_MIN), ("job_id", INF_MIN)]
        rows: list[Row] = []
        page_start: list[tuple[str, Any]] | None = start
        while page_start and len(rows) < limit:
            page_start, page = await self._range(table, page_start, end, limit - len(rows))
            rows.extend(page)
        return rows

    async def _range(
        self, table: str, start: list[tuple[str, Any]], end: list[tuple[str, Any]], limit: int
    ) -> tuple[list[tuple[str, Any]] | None, list[Row]]:
        """One page backward from ``start``: the key to continue from (None: done), rows."""
        _, next_start, page, _ = await self._db.call(
            f"GetRange {table}",
            lambda client: client.get_range(
                table, Direction.BACKWARD, start, end, limit=limit, max_version=1
            ),
            idempotent=True,
        )
        return next_start, page

    async def _owner(self, job_id: str) -> tuple[int, int] | None:
        """``(user_id, created_us)`` of the job with this id, from ``job_keys``."""
        row = await self._get_row(self._keys, [("job_id", job_id)])
        if row is None:
            return None
        cells = {cell[0]: cell[1] for cell in row.attribute_columns}
        if "user_id" not in cells or "created_us" not in cells:
            raise StorageError(f"job key row {job_id!r} is incomplete", transient=False)
        return cells["user_id"], cells["created_us"]

    async def _get_row(
        self, table: str, key: list[tuple[str, Any]], columns: list[str] | None = None
    ) -> Row | None:
        _, row, _ = await self._db.call(
            f"GetRow {table}",
            lambda client: client.get_row(table, key, columns, max_version=1),
            idempotent=True,
        )
        return row

    async def _write(self, what: str, table: str, row: Row, condition: Condition) -> None:
        await self._db.call(
            what, lambda client: client.put_row(table, row, condition), idempotent=False
        )


def _indexed(row: Row) -> tuple[str, int, int]:
    """``(job_id, user_id, created_us)`` from a ``job_files`` row."""
    key = dict(row.primary_key)
    cells = {cell[0]: cell[1] for cell in row.attribute_columns}
    if "user_id" not in cells:
        raise StorageError(f"job file row {key} is incomplete", transient=False)
    return key["job_id"], cells["user_id"], key["created_us"]
