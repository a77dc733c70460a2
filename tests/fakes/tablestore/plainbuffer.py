"""PlainBuffer, Tablestore's row encoding, read and written independently of the SDK.

Why this exists: the rows inside the protobuf bodies are PlainBuffer (a 0x75 header, one-byte
tags, little-endian lengths and numbers, a CRC-8 per cell and per row). The fake must parse
what the SDK sends, including UpdateRow cells that carry an operation type (the SDK's own
decoder fails on those), and must check every checksum, so a malformed request is refused
here as the service would refuse it. Only the CRC table is borrowed from the SDK.

Layout of one row: ``ROW_PK (CELL NAME VALUE CELL_CHECKSUM)* [ROW_DATA (CELL NAME [VALUE]
[TYPE] [TIMESTAMP] CELL_CHECKSUM)*] [DELETE_ROW_MARKER] ROW_CHECKSUM``. A cell's checksum
covers its name bytes, its value payload, its timestamp, then its operation type; a row's
covers the cells' checksums, then 1 or 0 for the delete marker.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tablestore.plainbuffer.plain_buffer_crc8 import CRC8_TABLE

HEADER = 0x75
(
    TAG_ROW_PK,
    TAG_ROW_DATA,
    TAG_CELL,
    TAG_CELL_NAME,
    TAG_CELL_VALUE,
    TAG_CELL_TYPE,
    TAG_CELL_TIMESTAMP,
    TAG_DELETE_ROW_MARKER,
    TAG_ROW_CHECKSUM,
    TAG_CELL_CHECKSUM,
) = range(1, 11)
VT_INTEGER, VT_DOUBLE, VT_BOOLEAN, VT_STRING, VT_BLOB, VT_INF_MIN, VT_INF_MAX = 0, 1, 2, 3, 7, 9, 10
OP_DELETE_ALL, OP_DELETE_ONE, OP_INCREMENT = 1, 3, 4


class Bound(enum.Enum):
    """The range ends ``INF_MIN`` / ``INF_MAX``: before and after every key value."""

    INF_MIN = VT_INF_MIN
    INF_MAX = VT_INF_MAX


Value = int | float | bool | str | bytes | Bound
PrimaryKey = list[tuple[str, Value]]


class PlainBufferError(ValueError):
    """The bytes are not a well-formed PlainBuffer row (bad tag, length or checksum)."""


@dataclass(frozen=True)
class Cell:
    name: str
    value: Value | None  # None: a delete carries no value
    op: int | None = None  # None: put; else OP_DELETE_ALL / OP_DELETE_ONE / OP_INCREMENT
    timestamp: int | None = None


@dataclass(frozen=True)
class ParsedRow:
    primary_key: PrimaryKey
    cells: list[Cell]
    delete_marker: bool


def crc8(crc: int, data: bytes) -> int:
    for byte in data:
        crc = CRC8_TABLE[(crc & 0xFF) ^ byte]
    return crc


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise PlainBufferError("truncated PlainBuffer")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        value: int = struct.unpack("<I", self.take(4))[0]
        return value


def parse_row(data: bytes) -> ParsedRow:
    """One row as sent in PutRow, UpdateRow, DeleteRow, GetRow and GetRange requests."""
    reader = _Reader(data)
    if reader.u32() != HEADER:
        raise PlainBufferError("bad PlainBuffer header")
    row = _read_row(reader)
    if reader.pos != len(data):
        raise PlainBufferError("bytes after the row checksum")
    return row


def parse_value(payload: bytes) -> Value:
    """A bare value (type byte + data), as in a column condition."""
    reader = _Reader(payload)
    value = _read_value(reader)
    if reader.pos != len(payload):
        raise PlainBufferError("bytes after the value")
    return value


def _read_row(reader: _Reader) -> ParsedRow:
    if reader.byte() != TAG_ROW_PK:
        raise PlainBufferError("expected the primary key tag")
    tag, crc = reader.byte(), 0
    primary_key: PrimaryKey = []
    while tag == TAG_CELL:
        cell, cell_crc, tag = _read_cell(reader)
        if cell.value is None or cell.op is not None or cell.timestamp is not None:
            raise PlainBufferError(f"primary key cell {cell.name!r} is not a plain value")
        primary_key.append((cell.name, cell.value))
        crc = crc8(crc, bytes([cell_crc]))
    cells: list[Cell] = []
    if tag == TAG_ROW_DATA:
        tag = reader.byte()
        while tag == TAG_CELL:
            cell, cell_crc, tag = _read_cell(reader)
            cells.append(cell)
            crc = crc8(crc, bytes([cell_crc]))
    delete_marker = tag == TAG_DELETE_ROW_MARKER
    if delete_marker:
        tag = reader.byte()
    crc = crc8(crc, bytes([int(delete_marker)]))
    if tag != TAG_ROW_CHECKSUM or reader.byte() != crc:
        raise PlainBufferError("row checksum missing or wrong")
    return ParsedRow(primary_key, cells, delete_marker)


def _read_cell(reader: _Reader) -> tuple[Cell, int, int]:
    """After TAG_CELL: the cell, its checksum and the tag that follows it."""
    if reader.byte() != TAG_CELL_NAME:
        raise PlainBufferError("expected a cell name")
    name = reader.take(reader.u32())
    crc = crc8(0, name)
    tag, value, op, timestamp = reader.byte(), None, None, None
    if tag == TAG_CELL_VALUE:
        size, start = reader.u32(), reader.pos
        value = _read_value(reader)
        if reader.pos - start != size:
            raise PlainBufferError("cell value length mismatch")
        crc = crc8(crc, reader.data[start : reader.pos])
        tag = reader.byte()
    if tag == TAG_CELL_TYPE:
        op, tag = reader.byte(), reader.byte()
    if tag == TAG_CELL_TIMESTAMP:
        raw = reader.take(8)
        timestamp = struct.unpack("<q", raw)[0]
        crc = crc8(crc, raw)
        tag = reader.byte()
    if op is not None:
        crc = crc8(crc, bytes([op]))
    if tag != TAG_CELL_CHECKSUM or reader.byte() != crc:
        raise PlainBufferError(f"cell {name!r}: checksum missing or wrong")
    return Cell(name.decode(), value, op, timestamp), crc, reader.byte()


def _read_value(reader: _Reader) -> Value:
    kind = reader.byte()
    if kind == VT_INTEGER:
        number: int = struct.unpack("<q", reader.take(8))[0]
        return number
    if kind == VT_DOUBLE:
        real: float = struct.unpack("<d", reader.take(8))[0]
        return real
    if kind == VT_BOOLEAN:
        return reader.byte() != 0
    if kind in (VT_STRING, VT_BLOB):
        data = reader.take(reader.u32())
        return data.decode() if kind == VT_STRING else data
    if kind in (VT_INF_MIN, VT_INF_MAX):
        return Bound(kind)
    raise PlainBufferError(f"unsupported value type {kind}")


def encode_value(value: Value) -> bytes:
    """Type byte + data: the payload of TAG_CELL_VALUE."""
    if isinstance(value, Bound):
        return bytes([value.value])
    if isinstance(value, bool):
        return bytes([VT_BOOLEAN, int(value)])
    if isinstance(value, int):
        return bytes([VT_INTEGER]) + struct.pack("<q", value)
    if isinstance(value, float):
        return bytes([VT_DOUBLE]) + struct.pack("<d", value)
    data, kind = (value.encode(), VT_STRING) if isinstance(value, str) else (value, VT_BLOB)
    return bytes([kind]) + struct.pack("<I", len(data)) + data


def _encode_cell(name: str, value: Value, timestamp: int | None) -> tuple[bytes, int]:
    name_bytes, payload = name.encode(), encode_value(value)
    out = bytes([TAG_CELL, TAG_CELL_NAME]) + struct.pack("<I", len(name_bytes)) + name_bytes
    out += bytes([TAG_CELL_VALUE]) + struct.pack("<I", len(payload)) + payload
    crc = crc8(crc8(0, name_bytes), payload)
    if timestamp is not None:
        raw = struct.pack("<q", timestamp)
        out += bytes([TAG_CELL_TIMESTAMP]) + raw
        crc = crc8(crc, raw)
    return out + bytes([TAG_CELL_CHECKSUM, crc]), crc


def _encode_row(primary_key: PrimaryKey, columns: Sequence[tuple[str, Value, int]]) -> bytes:
    out, crc = bytearray([TAG_ROW_PK]), 0
    for name, value in primary_key:
        cell, cell_crc = _encode_cell(name, value, None)
        out += cell
        crc = crc8(crc, bytes([cell_crc]))
    if columns:
        out.append(TAG_ROW_DATA)
        for name, value, timestamp in columns:
            cell, cell_crc = _encode_cell(name, value, timestamp)
            out += cell
            crc = crc8(crc, bytes([cell_crc]))
    return bytes(out + bytes([TAG_ROW_CHECKSUM, crc8(crc, b"\x00")]))


def encode_rows(rows: Iterable[tuple[PrimaryKey, Sequence[tuple[str, Value, int]]]]) -> bytes:
    """Rows as a GetRow / GetRange response carries them: one header, then each row;
    no rows at all is empty bytes."""
    body = b"".join(_encode_row(key, columns) for key, columns in rows)
    return struct.pack("<I", HEADER) + body if body else b""


def encode_primary_key(primary_key: PrimaryKey) -> bytes:
    """A key alone, as GetRange's ``next_start_primary_key``."""
    return encode_rows([(primary_key, [])])
