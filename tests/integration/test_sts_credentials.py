"""Tablestore and MNS signed with a Function Compute role's temporary STS credentials.

Why this exists: on FC the natural credentials are the role's key id, secret and security
token, rotated while an instance lives. The real SDKs talk to the protocol fakes, which
accept a granted STS key only with its token in the signed request (``x-ots-ststoken``
for Tablestore, ``security-token`` for MNS) and refuse it once revoked: so a client that
kept signing with the key it was built with would fail after the rotation.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from application.errors import QueueError, StorageError
from infrastructure.cloud_credentials import AccessKey, CloudCredentials
from infrastructure.mns import MnsJobQueue
from infrastructure.retrying import RetryPolicy
from infrastructure.tablestore import (
    TablestoreConnection,
    TablestorePreferencesRepository,
    create_tables,
)
from tests.fakes.mns_server import MnsFake
from tests.fakes.tablestore import FakeTablestore

QUEUE = "voicescribe-jobs"
FAST = RetryPolicy(attempts=2, base_delay_seconds=0.01, max_delay_seconds=0.02, budget_seconds=5)
FIRST = AccessKey("STS.first-key-id", "first-secret", "first-token-CAIS")
SECOND = AccessKey("STS.second-key-id", "second-secret", "second-token-CAIS")


@pytest.fixture
def tablestore() -> Iterator[FakeTablestore]:
    with FakeTablestore() as fake:
        yield fake


@pytest.fixture
def mns() -> Iterator[MnsFake]:
    with MnsFake() as fake:
        fake.add_queue(QUEUE)
        yield fake


def grant(fake: FakeTablestore | MnsFake, key: AccessKey) -> None:
    fake.grant_sts(key.key_id, key.secret, key.security_token)


async def test_tablestore_sends_the_token_and_signs_with_the_rotated_key(
    tablestore: FakeTablestore,
) -> None:
    grant(tablestore, FIRST)
    credentials = CloudCredentials(FIRST)
    async with TablestoreConnection(
        tablestore.endpoint, "", "", tablestore.instance,
        credentials=credentials, retry_policy=FAST,
    ) as connection:  # fmt: skip
        await create_tables(connection)
        preferences = TablestorePreferencesRepository(connection)
        assert await preferences.get(7) is None
        before = len(tablestore.requests)

        grant(tablestore, SECOND)
        tablestore.revoke_sts(FIRST.key_id)  # expired: the first key no longer works
        assert credentials.rotate(SECOND)
        assert await preferences.get(7) is None

    first, after = tablestore.requests[:before], tablestore.requests[before:]
    assert {r.headers["x-ots-ststoken"] for r in first} == {FIRST.security_token}
    assert {r.headers["x-ots-accesskeyid"] for r in first} == {FIRST.key_id}
    assert [r.headers["x-ots-ststoken"] for r in after] == [SECOND.security_token]
    assert [r.headers["x-ots-accesskeyid"] for r in after] == [SECOND.key_id]
    assert all(r.signature_valid and r.status == 200 for r in tablestore.requests)


async def test_tablestore_refuses_a_revoked_key_as_a_storage_error(
    tablestore: FakeTablestore,
) -> None:
    """The fake's check is real: without the rotation the old key fails."""
    grant(tablestore, FIRST)
    async with TablestoreConnection(
        tablestore.endpoint, FIRST.key_id, FIRST.secret, tablestore.instance,
        security_token=FIRST.security_token, retry_policy=FAST,
    ) as connection:  # fmt: skip
        await create_tables(connection)
        tablestore.revoke_sts(FIRST.key_id)
        with pytest.raises(StorageError):
            await TablestorePreferencesRepository(connection).get(7)


async def test_tablestore_static_keys_send_no_token(tablestore: FakeTablestore) -> None:
    async with TablestoreConnection(
        tablestore.endpoint, tablestore.access_key_id, tablestore.access_key_secret,
        tablestore.instance, retry_policy=FAST,
    ) as connection:  # fmt: skip
        await create_tables(connection)
        assert await TablestorePreferencesRepository(connection).get(7) is None
    assert tablestore.requests
    assert not [r for r in tablestore.requests if "x-ots-ststoken" in r.headers]


async def test_mns_sends_the_token_and_signs_with_the_rotated_key(mns: MnsFake) -> None:
    grant(mns, FIRST)
    credentials = CloudCredentials(FIRST)
    queue = MnsJobQueue(mns.endpoint, "", "", QUEUE, credentials=credentials, retry=FAST)
    try:
        await queue.enqueue("tg:1:1")
        before = len(mns.requests)

        grant(mns, SECOND)
        mns.revoke_sts(FIRST.key_id)
        assert credentials.rotate(SECOND)
        await queue.enqueue("tg:1:2")  # the same thread's client, built before the rotation
        message = await queue.receive(0)
        assert message is not None
        await queue.acknowledge(message)
    finally:
        await queue.close()

    first, after = mns.requests[:before], mns.requests[before:]
    assert [r.headers.get("security-token") for r in first] == [FIRST.security_token]
    assert {r.headers.get("security-token") for r in after} == {SECOND.security_token}
    assert {r.headers["authorization"].split()[1].split(":")[0] for r in after} == {SECOND.key_id}
    assert all(r.status < 300 for r in mns.requests)


async def test_mns_refuses_a_revoked_key_as_a_queue_error(mns: MnsFake) -> None:
    grant(mns, FIRST)
    queue = MnsJobQueue(
        mns.endpoint, FIRST.key_id, FIRST.secret, QUEUE,
        security_token=FIRST.security_token, retry=FAST,
    )  # fmt: skip
    try:
        await queue.enqueue("tg:1:1")
        mns.revoke_sts(FIRST.key_id)
        with pytest.raises(QueueError):
            await queue.enqueue("tg:1:2")
    finally:
        await queue.close()


async def test_mns_static_keys_send_no_token(mns: MnsFake) -> None:
    queue = MnsJobQueue(mns.endpoint, mns.access_key_id, mns.access_key_secret, QUEUE, retry=FAST)
    try:
        await queue.enqueue("tg:1:1")
    finally:
        await queue.close()
    assert [r.status for r in mns.requests] == [201]
    assert "security-token" not in mns.requests[0].headers


def test_a_rotation_ignores_a_context_without_keys_and_never_shows_the_secret() -> None:
    credentials = CloudCredentials(FIRST)
    assert not credentials.rotate(AccessKey("", "", ""))
    assert not credentials.rotate(FIRST)
    assert credentials.current() == FIRST
    shown = repr(FIRST)
    assert FIRST.secret not in shown and FIRST.security_token not in shown
