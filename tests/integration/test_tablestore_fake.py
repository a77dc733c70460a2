"""The Tablestore fake itself, driven by the plain SDK client: the conditions and row
operations the repositories rely on behave as the service documents them.

Why: a fake that accepts what the real service refuses would make the repository tests
worthless, so its semantics are pinned here (conditions, increments, ranges, errors,
checksums), apart from any code of ours.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tablestore import (
    INF_MAX,
    INF_MIN,
    CapacityUnit,
    ComparatorType,
    CompositeColumnCondition,
    Condition,
    LogicalOperator,
    NoRetryPolicy,
    OTSClient,
    OTSServiceError,
    ReservedThroughput,
    Row,
    SingleColumnCondition,
    TableMeta,
    TableOptions,
)
from tablestore.plainbuffer.plain_buffer_builder import PlainBufferBuilder

from tests.fakes.tablestore import FakeTablestore
from tests.fakes.tablestore.plainbuffer import PlainBufferError, parse_row

KEY = [("user", 1), ("item", "a")]
FAILED, INVALID = "OTSConditionCheckFail", "OTSParameterInvalid"


@pytest.fixture
def client() -> Iterator[OTSClient]:
    with FakeTablestore() as fake:
        ots = OTSClient(
            fake.endpoint,
            fake.access_key_id,
            fake.access_key_secret,
            fake.instance,
            retry_policy=NoRetryPolicy(),
            socket_timeout=2,
        )
        meta = TableMeta("t", [("user", "INTEGER"), ("item", "STRING")])
        ots.create_table(meta, TableOptions(), ReservedThroughput(CapacityUnit(0, 0)))
        ots.put_row("t", Row(KEY, [("balance", 10), ("state", "open")]))
        yield ots


def column(name: str, value: object, comparator: str) -> SingleColumnCondition:
    return SingleColumnCondition(name, value, comparator, pass_if_missing=False)


def error_code(call: object, *args: object) -> str:
    with pytest.raises(OTSServiceError) as failure:
        call(*args)  # type: ignore[operator]
    return str(failure.value.code)


def cells(client: OTSClient) -> dict[str, object]:
    _, row, _ = client.get_row("t", KEY, max_version=1)
    return {name: value for name, value, _ in row.attribute_columns}


def test_row_existence_conditions(client: OTSClient) -> None:
    other = [("user", 1), ("item", "b")]
    exists, new = Condition("EXPECT_EXIST"), Condition("EXPECT_NOT_EXIST")
    assert error_code(client.put_row, "t", Row(KEY, [("x", 1)]), new) == FAILED
    assert error_code(client.update_row, "t", Row(other, {"put": [("x", 2)]}), exists) == FAILED
    assert error_code(client.update_row, "t", Row(KEY, {"put": [("x", 2)]}), new) == INVALID
    client.put_row("t", Row(other, [("x", 1)]), new)
    client.delete_row("t", Row(other), exists)
    assert error_code(client.delete_row, "t", Row(other), exists) == FAILED


def test_column_conditions_guard_a_debit(client: OTSClient) -> None:
    debit = {"increment": [("balance", -4)]}
    enough = Condition("EXPECT_EXIST", column("balance", 4, ComparatorType.GREATER_EQUAL))
    client.update_row("t", Row(KEY, debit), enough)
    client.update_row("t", Row(KEY, debit), enough)
    assert error_code(client.update_row, "t", Row(KEY, debit), enough) == FAILED
    assert cells(client)["balance"] == 2

    both = CompositeColumnCondition(LogicalOperator.AND)
    both.add_sub_condition(column("balance", 2, ComparatorType.EQUAL))
    both.add_sub_condition(column("state", "closed", ComparatorType.EQUAL))
    update = Row(KEY, {"put": [("state", "x")], "delete_all": ["balance"]})
    assert error_code(client.update_row, "t", update, Condition("EXPECT_EXIST", both)) == FAILED
    either = CompositeColumnCondition(LogicalOperator.OR)
    either.add_sub_condition(column("balance", 2, ComparatorType.EQUAL))
    either.add_sub_condition(column("state", "closed", ComparatorType.EQUAL))
    client.update_row("t", update, Condition("EXPECT_EXIST", either))
    assert cells(client) == {"state": "x"}


def test_a_missing_column_fails_unless_allowed(client: OTSClient) -> None:
    strict = Condition("IGNORE", column("nope", 1, ComparatorType.EQUAL))
    lenient = Condition("IGNORE", SingleColumnCondition("nope", 1, ComparatorType.EQUAL))
    assert error_code(client.put_row, "t", Row(KEY, [("x", 1)]), strict) == FAILED
    client.put_row("t", Row(KEY, [("x", 1)]), lenient)  # pass_if_missing defaults to True
    wrong_type = Condition("IGNORE", column("x", "1", ComparatorType.EQUAL))
    assert error_code(client.put_row, "t", Row(KEY, [("x", 2)]), wrong_type) == FAILED


def test_get_range_pages_in_both_directions(client: OTSClient) -> None:
    for item in "bcde":
        client.put_row("t", Row([("user", 1), ("item", item)], [("n", 1)]))
    client.put_row("t", Row([("user", 2), ("item", "a")], [("n", 1)]))
    start, end = [("user", 1), ("item", INF_MIN)], [("user", 1), ("item", INF_MAX)]

    _, next_key, rows, _ = client.get_range("t", "FORWARD", start, end, limit=3, max_version=1)
    assert [row.primary_key[1][1] for row in rows] == ["a", "b", "c"]
    assert next_key == [("user", 1), ("item", "d")]
    _, next_key, rows, _ = client.get_range("t", "BACKWARD", end, start, max_version=1)
    assert [row.primary_key[1][1] for row in rows] == ["e", "d", "c", "b", "a"]
    assert next_key is None


def test_service_errors(client: OTSClient) -> None:
    meta = TableMeta("t", [("user", "INTEGER"), ("item", "STRING")])
    options, throughput = TableOptions(), ReservedThroughput(CapacityUnit(0, 0))
    assert error_code(client.create_table, meta, options, throughput) == "OTSObjectAlreadyExist"
    assert error_code(client.get_row, "missing", KEY) == "OTSObjectNotExist"
    assert error_code(client.get_row, "t", [("user", "1"), ("item", "a")]) == "OTSInvalidPK"
    assert error_code(client.get_row, "t", [("user", 1)]) == "OTSInvalidPK"
    assert client.list_table() == ("t",)
    assert client.describe_table("t").table_meta.schema_of_primary_key == meta.schema_of_primary_key


def test_plainbuffer_checksums_are_verified() -> None:
    good = bytes(PlainBufferBuilder.serialize_for_put_row(KEY, [("x", "y")]))
    assert parse_row(good).primary_key == KEY
    corrupted = good[:-6] + bytes([good[-6] ^ 0x01]) + good[-5:]
    with pytest.raises(PlainBufferError):
        parse_row(corrupted)
