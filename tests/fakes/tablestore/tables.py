"""The fake's data: tables of rows in memory and the row operations, each atomic.

Why this exists: conditional writes are only worth testing if a check and its write cannot
interleave with another request's, as on the real service. Every operation here runs under
one lock, on rows keyed by their primary key values, with one version per column (a
timestamp in milliseconds is kept and returned, as the service does). Primary keys are
checked against the table's schema (names, order, types), so an adapter that builds a key
wrongly fails here with ``OTSInvalidPK`` instead of silently writing a stray row. TTL is
recorded (DescribeTable reports it) but nothing expires.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import tablestore.protobuf.table_store_pb2 as pb

from tests.fakes.tablestore.conditions import OtsError, check, invalid
from tests.fakes.tablestore.plainbuffer import (
    OP_DELETE_ALL,
    OP_DELETE_ONE,
    OP_INCREMENT,
    Bound,
    Cell,
    PrimaryKey,
    Value,
)

Columns = dict[str, tuple[Value, int]]  # name -> (value, timestamp ms)
StoredRow = tuple[PrimaryKey, list[tuple[str, Value, int]]]
_PK_TYPES: dict[int, type] = {pb.INTEGER: int, pb.STRING: str, pb.BINARY: bytes}


@dataclass
class Table:
    name: str
    schema: list[tuple[str, int]]  # primary key columns: name, pb.PrimaryKeyType
    time_to_live: int = -1
    max_versions: int = 1
    created_at: float = field(default_factory=time.time)
    rows: dict[tuple[Value, ...], Columns] = field(default_factory=dict)


def _missing_table() -> OtsError:
    return OtsError(404, "OTSObjectNotExist", "Requested table does not exist.")


class Store:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tables: dict[str, Table] = {}

    def create_table(self, table: Table) -> None:
        with self.lock:
            if table.name in self.tables:
                raise OtsError(409, "OTSObjectAlreadyExist", "Requested table already exists.")
            self.tables[table.name] = table

    def table(self, name: str) -> Table:
        with self.lock:
            return self._table(name)

    def put_row(self, name: str, key: PrimaryKey, cells: list[Cell], cond: pb.Condition) -> None:
        if any(cell.op is not None or cell.value is None for cell in cells):
            raise invalid("PutRow cells must be plain values")
        with self.lock:
            table = self._table(name)
            values = _key(table, key)
            check(cond, _plain(table.rows.get(values)))
            now = _now_ms()
            table.rows[values] = {c.name: (c.value, now) for c in cells}  # type: ignore[misc]

    def update_row(self, name: str, key: PrimaryKey, cells: list[Cell], cond: pb.Condition) -> None:
        if cond.row_existence == pb.EXPECT_NOT_EXIST:
            raise invalid("UpdateRow supports only IGNORE and EXPECT_EXIST")
        with self.lock:
            table = self._table(name)
            values = _key(table, key)
            current = table.rows.get(values)
            check(cond, _plain(current))
            table.rows[values] = _apply(dict(current or {}), cells, _now_ms())

    def delete_row(self, name: str, key: PrimaryKey, cond: pb.Condition) -> None:
        with self.lock:
            table = self._table(name)
            values = _key(table, key)
            check(cond, _plain(table.rows.get(values)))
            table.rows.pop(values, None)

    def get_row(self, name: str, key: PrimaryKey, wanted: Sequence[str]) -> StoredRow | None:
        with self.lock:
            table = self._table(name)
            values = _key(table, key)
            columns = table.rows.get(values)
            return None if columns is None else _stored(table, values, columns, wanted)

    def get_range(
        self,
        name: str,
        start: PrimaryKey,
        end: PrimaryKey,
        *,
        backward: bool,
        limit: int,
        wanted: Sequence[str],
    ) -> tuple[list[StoredRow], PrimaryKey | None]:
        """Rows from ``start`` (inclusive) to ``end`` (exclusive), at most ``limit``; the key
        of the next row when more remain."""
        with self.lock:
            table = self._table(name)
            low, high = _order(_key(table, start, bounds=True)), _order(_key(table, end, True))
            if backward:
                hits = [k for k in table.rows if high < _order(k) <= low]
            else:
                hits = [k for k in table.rows if low <= _order(k) < high]
            hits.sort(key=_order, reverse=backward)
            page = [_stored(table, k, table.rows[k], wanted) for k in hits[:limit]]
            more = hits[limit] if len(hits) > limit else None
            return page, None if more is None else _named(table, more)

    def _table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise _missing_table() from None


def _now_ms() -> int:
    return int(time.time() * 1000)


def _key(table: Table, key: PrimaryKey, bounds: bool = False) -> tuple[Value, ...]:
    if [name for name, _ in key] != [name for name, _ in table.schema]:
        raise OtsError(400, "OTSInvalidPK", f"primary key must be {table.schema}, got {key}")
    for (name, value), (_, kind) in zip(key, table.schema, strict=True):
        if not (bounds and isinstance(value, Bound)) and type(value) is not _PK_TYPES[kind]:
            raise OtsError(400, "OTSInvalidPK", f"primary key {name!r}: wrong type {value!r}")
    return tuple(value for _, value in key)


def _order(values: tuple[Value, ...]) -> tuple[tuple[int, Any], ...]:
    """Sort key: INF_MIN before every value, INF_MAX after."""
    rank = {Bound.INF_MIN: (0, 0), Bound.INF_MAX: (2, 0)}
    return tuple(rank[v] if isinstance(v, Bound) else (1, v) for v in values)


def _named(table: Table, values: tuple[Value, ...]) -> PrimaryKey:
    return [(name, value) for (name, _), value in zip(table.schema, values, strict=True)]


def _plain(columns: Columns | None) -> dict[str, Value] | None:
    return None if columns is None else {name: value for name, (value, _) in columns.items()}


def _stored(
    table: Table, values: tuple[Value, ...], columns: Columns, wanted: Sequence[str]
) -> StoredRow:
    chosen = [(n, v, ts) for n, (v, ts) in sorted(columns.items()) if not wanted or n in wanted]
    return _named(table, values), chosen


def _apply(columns: Columns, cells: list[Cell], now: int) -> Columns:
    for cell in cells:
        if cell.op in (OP_DELETE_ALL, OP_DELETE_ONE):
            columns.pop(cell.name, None)
        elif cell.op == OP_INCREMENT:
            current = columns.get(cell.name, (0, now))[0]
            if type(cell.value) is not int or type(current) is not int:
                raise invalid(f"increment of {cell.name!r} needs integers")
            columns[cell.name] = (current + cell.value, now)
        elif cell.op is None and cell.value is not None:
            columns[cell.name] = (cell.value, now)
        else:
            raise invalid(f"cell {cell.name!r}: unsupported update")
    return columns
