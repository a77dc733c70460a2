"""Reading a whole Tablestore table in primary key order: forward GetRange, page by page.

Why this exists: Tablestore answers only key lookups and key ranges, so the listings that
are not keyed (every account, jobs by status or age, payments by time) read the table from
its first key to its last and filter in Python. The service returns at most 5000 rows (or
4 MB) per GetRange and the key to continue from; each page is a billed read of every row
in it, so a scan costs in proportion to the table, not to the answer. That is acceptable
for what uses it (the owner's statistics, export and the stuck-job flush), not for
anything on a user's request path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tablestore import INF_MAX, INF_MIN, Direction, Row

from infrastructure.tablestore.connection import TablestoreConnection

Key = list[tuple[str, Any]]


async def scan(
    connection: TablestoreConnection,
    table: str,
    key_columns: Sequence[str],
    limit: int | None = None,
) -> list[Row]:
    """Rows of ``table`` (primary key ``key_columns``) in key order: all of them, or the
    first ``limit``."""
    if limit is not None and limit <= 0:
        return []
    start: Key | None = [(name, INF_MIN) for name in key_columns]
    end: Key = [(name, INF_MAX) for name in key_columns]
    rows: list[Row] = []
    while start is not None and (limit is None or len(rows) < limit):
        wanted = None if limit is None else limit - len(rows)
        start, page = await _page(connection, table, start, end, wanted)
        rows.extend(page)
    return rows


async def _page(
    connection: TablestoreConnection, table: str, start: Key, end: Key, limit: int | None
) -> tuple[Key | None, list[Row]]:
    """One GetRange page: the key to continue from (``None``: the range is done), rows."""
    _, next_start, page, _ = await connection.call(
        f"GetRange {table}",
        lambda client: client.get_range(
            table, Direction.FORWARD, start, end, limit=limit, max_version=1
        ),
        idempotent=True,
    )
    return next_start, page
