"""The table and row APIs of the fake: protobuf request bytes in, protobuf response bytes out.

Why this exists: it is the one place that knows the message types of each API (the SDK's
own generated ``table_store_pb2``, so field numbers cannot drift) and turns them into calls
on the in-memory ``Store``. Supported: CreateTable, ListTable, DescribeTable, PutRow,
GetRow, UpdateRow, DeleteRow, GetRange. Anything else is ``OTSUnsupportOperation``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tablestore.protobuf.table_store_pb2 as pb
from google.protobuf.message import DecodeError, Message

from tests.fakes.tablestore.conditions import OtsError, invalid
from tests.fakes.tablestore.plainbuffer import (
    PlainBufferError,
    encode_primary_key,
    encode_rows,
    parse_row,
)
from tests.fakes.tablestore.tables import Store, Table

MAX_RANGE_ROWS = 5000  # the service's page size for GetRange


def _consumed(read: int = 0, write: int = 0) -> pb.ConsumedCapacity:
    return pb.ConsumedCapacity(capacity_unit=pb.CapacityUnit(read=read, write=write))


def create_table(store: Store, request: pb.CreateTableRequest) -> Message:
    meta, options = request.table_meta, request.table_options
    store.create_table(
        Table(
            name=meta.table_name,
            schema=[(column.name, column.type) for column in meta.primary_key],
            time_to_live=options.time_to_live if options.HasField("time_to_live") else -1,
            max_versions=options.max_versions if options.HasField("max_versions") else 1,
        )
    )
    return pb.CreateTableResponse()


def list_table(store: Store, request: pb.ListTableRequest) -> Message:
    with store.lock:
        return pb.ListTableResponse(table_names=sorted(store.tables))


def describe_table(store: Store, request: pb.DescribeTableRequest) -> Message:
    table = store.table(request.table_name)
    return pb.DescribeTableResponse(
        table_meta=pb.TableMeta(
            table_name=table.name,
            primary_key=[pb.PrimaryKeySchema(name=n, type=t) for n, t in table.schema],
        ),
        reserved_throughput_details=pb.ReservedThroughputDetails(
            capacity_unit=pb.CapacityUnit(read=0, write=0),
            last_increase_time=int(table.created_at),
        ),
        table_options=pb.TableOptions(
            time_to_live=table.time_to_live,
            max_versions=table.max_versions,
            deviation_cell_version_in_sec=86400,
        ),
    )


def put_row(store: Store, request: pb.PutRowRequest) -> Message:
    row = parse_row(request.row)
    store.put_row(request.table_name, row.primary_key, row.cells, request.condition)
    return pb.PutRowResponse(consumed=_consumed(write=1))


def update_row(store: Store, request: pb.UpdateRowRequest) -> Message:
    row = parse_row(request.row_change)
    store.update_row(request.table_name, row.primary_key, row.cells, request.condition)
    return pb.UpdateRowResponse(consumed=_consumed(write=1))


def delete_row(store: Store, request: pb.DeleteRowRequest) -> Message:
    row = parse_row(request.primary_key)
    if not row.delete_marker or row.cells:
        raise invalid("DeleteRow takes a primary key with the delete marker")
    store.delete_row(request.table_name, row.primary_key, request.condition)
    return pb.DeleteRowResponse(consumed=_consumed(write=1))


def get_row(store: Store, request: pb.GetRowRequest) -> Message:
    key = parse_row(request.primary_key).primary_key
    found = store.get_row(request.table_name, key, list(request.columns_to_get))
    return pb.GetRowResponse(consumed=_consumed(read=1), row=encode_rows([found] if found else []))


def get_range(store: Store, request: pb.GetRangeRequest) -> Message:
    limit = request.limit if request.HasField("limit") and request.limit > 0 else MAX_RANGE_ROWS
    rows, next_key = store.get_range(
        request.table_name,
        parse_row(request.inclusive_start_primary_key).primary_key,
        parse_row(request.exclusive_end_primary_key).primary_key,
        backward=request.direction == pb.BACKWARD,
        limit=min(limit, MAX_RANGE_ROWS),
        wanted=list(request.columns_to_get),
    )
    response = pb.GetRangeResponse(consumed=_consumed(read=1), rows=encode_rows(rows))
    if next_key is not None:
        response.next_start_primary_key = encode_primary_key(next_key)
    return response


_APIS: dict[str, tuple[type[Message], Callable[[Store, Any], Message]]] = {
    "CreateTable": (pb.CreateTableRequest, create_table),
    "ListTable": (pb.ListTableRequest, list_table),
    "DescribeTable": (pb.DescribeTableRequest, describe_table),
    "PutRow": (pb.PutRowRequest, put_row),
    "GetRow": (pb.GetRowRequest, get_row),
    "UpdateRow": (pb.UpdateRowRequest, update_row),
    "DeleteRow": (pb.DeleteRowRequest, delete_row),
    "GetRange": (pb.GetRangeRequest, get_range),
}


def dispatch(store: Store, api: str, body: bytes) -> bytes:
    """Run one API call; raises ``OtsError`` for an error answer."""
    if api not in _APIS:
        raise OtsError(400, "OTSUnsupportOperation", f"Unsupported operation: '{api}'.")
    request_type, handler = _APIS[api]
    try:
        request = request_type.FromString(body)
        answer: bytes = handler(store, request).SerializeToString()
    except (DecodeError, PlainBufferError) as error:
        raise invalid(f"malformed {api} request: {error}") from error
    return answer
