"""One contract for every ``PaymentRepository``: in memory, SQLite, and Tablestore (the
real SDK against its wire-level fake).

Why: the payment handlers are tested against the in-memory record and run against the
others. What they rely on: a charge is stored once (a second ``add`` of the same charge id
is ``False`` and changes nothing), a payment reads back equal, a refund is recorded on the
stored payment and only there (an unknown charge is a ``StorageError``, never a new row),
and the owner's report lists payments from a time on, newest first, up to a limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import attrs
import pytest

from application.errors import StorageError
from application.ports import PaymentRecord, PaymentRepository
from infrastructure.sqlite import SqlitePaymentRepository
from infrastructure.tablestore import (
    TablestorePaymentRepository,
)
from tests.application.in_memory import InMemoryPaymentRepository
from tests.contract.connections import fake_tablestore, sqlite_database

T0 = 1_700_000_000.0


@pytest.fixture(params=["in_memory", "sqlite", "tablestore"])
async def payments(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[PaymentRepository]:
    async with AsyncExitStack() as stack:
        if request.param == "in_memory":
            yield InMemoryPaymentRepository()
        elif request.param == "sqlite":
            db = sqlite_database(stack, tmp_path / "contract.db")
            yield SqlitePaymentRepository(db)
        else:
            connection = await fake_tablestore(stack)
            yield TablestorePaymentRepository(connection)


def paid(charge_id: str = "charge-1", at: float = 0.0, user_id: int = 42) -> PaymentRecord:
    return PaymentRecord(
        charge_id=charge_id,
        user_id=user_id,
        package_id="m60",
        stars=250,
        minutes=60,
        paid_at=T0 + at + 0.25,
    )


async def test_a_charge_is_stored_once(payments: PaymentRepository) -> None:
    assert await payments.add(paid()) is True
    assert await payments.add(paid()) is False
    assert await payments.add(attrs.evolve(paid(), user_id=7, minutes=999)) is False

    assert await payments.get("charge-1") == paid()
    assert await payments.get("unknown") is None


async def test_a_refund_is_recorded_on_the_payment(payments: PaymentRepository) -> None:
    await payments.add(paid())
    await payments.add(paid("charge-2"))

    await payments.mark_refunded("charge-1", T0 + 3600.5)

    assert await payments.get("charge-1") == attrs.evolve(paid(), refunded_at=T0 + 3600.5)
    assert await payments.get("charge-2") == paid("charge-2")


async def test_a_payment_stored_as_refunded_reads_back_equal(payments: PaymentRepository) -> None:
    refunded = attrs.evolve(paid(), refunded_at=T0 + 10.0)
    assert await payments.add(refunded) is True
    assert await payments.get("charge-1") == refunded


async def test_refunding_an_unknown_charge_is_a_storage_error(
    payments: PaymentRepository,
) -> None:
    with pytest.raises(StorageError):
        await payments.mark_refunded("never-paid", T0)
    assert await payments.get("never-paid") is None
    assert await payments.list_since(0.0, 10) == []


async def test_list_since_is_newest_first_with_a_limit(payments: PaymentRepository) -> None:
    for charge_id, at in [("b", 30), ("d", 10), ("a", 40), ("too-old", 5), ("c", 20)]:
        await payments.add(paid(charge_id, at, user_id=len(charge_id)))
    await payments.mark_refunded("b", T0 + 50)

    recent = await payments.list_since(T0 + 10, 10)

    assert [payment.charge_id for payment in recent] == ["a", "b", "c", "d"]
    assert recent[1] == attrs.evolve(paid("b", 30, user_id=1), refunded_at=T0 + 50)
    assert [payment.charge_id for payment in await payments.list_since(T0 + 10, 2)] == ["a", "b"]
    assert await payments.list_since(T0 + 41, 10) == []
    assert await payments.list_since(T0, 0) == []
