"""Row conditions as Tablestore checks them before a write: existence, then column values.

Why this exists: optimistic concurrency in the repositories rests entirely on these checks
(``EXPECT_NOT_EXIST`` for inserts, ``EXPECT_EXIST`` + ``version == n`` for updates), so the
fake evaluates them exactly, inside the store's lock, and fails with the service's
``OTSConditionCheckFail`` (HTTP 403). Supported: single column conditions with every
comparator (values of a different type never match), ``pass_if_missing`` (sent as
``filter_if_missing``), and composite NOT / AND / OR. One version per column is kept, so
``latest_version_only`` changes nothing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import tablestore.protobuf.table_store_filter_pb2 as filter_pb
import tablestore.protobuf.table_store_pb2 as pb

from tests.fakes.tablestore.plainbuffer import Value, parse_value


class OtsError(Exception):
    """An error answer of the service: HTTP status, error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


def condition_failed() -> OtsError:
    return OtsError(403, "OTSConditionCheckFail", "Condition check failed.")


def invalid(message: str) -> OtsError:
    return OtsError(400, "OTSParameterInvalid", message)


_COMPARATORS: dict[int, Callable[[Any, Any], bool]] = {
    filter_pb.CT_EQUAL: operator.eq,
    filter_pb.CT_NOT_EQUAL: operator.ne,
    filter_pb.CT_GREATER_THAN: operator.gt,
    filter_pb.CT_GREATER_EQUAL: operator.ge,
    filter_pb.CT_LESS_THAN: operator.lt,
    filter_pb.CT_LESS_EQUAL: operator.le,
}


def check(condition: pb.Condition, row: Mapping[str, Value] | None) -> None:
    """Raise ``OTSConditionCheckFail`` unless ``condition`` holds for ``row`` (None: absent)."""
    expectation = condition.row_existence
    if expectation == pb.EXPECT_EXIST and row is None:
        raise condition_failed()
    if expectation == pb.EXPECT_NOT_EXIST and row is not None:
        raise condition_failed()
    if condition.HasField("column_condition") and condition.column_condition:
        column_filter = filter_pb.Filter.FromString(condition.column_condition)
        if not _passes(column_filter, row or {}):
            raise condition_failed()


def _passes(column_filter: filter_pb.Filter, columns: Mapping[str, Value]) -> bool:
    if column_filter.type == filter_pb.FT_SINGLE_COLUMN_VALUE:
        single = filter_pb.SingleColumnValueFilter.FromString(column_filter.filter)
        if single.column_name not in columns:
            return not single.filter_if_missing
        if single.comparator == filter_pb.CT_EXIST:
            return True
        if single.comparator == filter_pb.CT_NOT_EXIST:
            return False
        compare = _COMPARATORS.get(single.comparator)
        if compare is None:
            raise invalid(f"unknown comparator {single.comparator}")
        actual, expected = columns[single.column_name], parse_value(single.column_value)
        return type(actual) is type(expected) and compare(actual, expected)
    if column_filter.type == filter_pb.FT_COMPOSITE_COLUMN_VALUE:
        composite = filter_pb.CompositeColumnValueFilter.FromString(column_filter.filter)
        results = [_passes(sub, columns) for sub in composite.sub_filters]
        if composite.combinator == filter_pb.LO_NOT and len(results) == 1:
            return not results[0]
        if composite.combinator == filter_pb.LO_AND and len(results) >= 2:
            return all(results)
        if composite.combinator == filter_pb.LO_OR and len(results) >= 2:
            return any(results)
        raise invalid("NOT takes one sub condition, AND / OR at least two")
    raise invalid(f"unsupported filter type {column_filter.type}")
