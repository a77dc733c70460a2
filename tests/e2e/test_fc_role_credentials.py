"""Function Compute with a role: Tablestore and MNS signed with its rotated STS credentials.

Why this exists: a function with a role gets temporary credentials (``ALIBABA_CLOUD_*`` in
its environment at start, the current ones in each invocation's ``context.credentials``),
and an instance outlives them. Here the handlers run in process with no static keys at
all, against fakes that accept only the STS keys granted to them (token in the signed
request) and refuse a revoked one: after a rotation, the next invocation must sign with
the key its context carries. The settings part checks which keys are chosen.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from entrypoints import fc
from entrypoints.composition.settings import ConfigurationError, load_settings
from tests.e2e.test_alibaba_profile import (
    DASHSCOPE_KEY,
    QUEUE,
    alibaba_env,
    clean_environment,
    prepared_cloud,
)
from tests.e2e.test_function_compute import (
    SECRET,
    USER,
    WEBHOOK,
    WORKER,
    FcContext,
    http_event,
    timer_event,
)
from tests.fakes.dashscope_server import FakeDashScope
from tests.fakes.mns_server import MnsFake
from tests.fakes.tablestore import FakeTablestore
from tests.fakes.telegram import TelegramFake

FIRST = ("STS.role-key-one", "role-secret-one", "CAIS-token-one")
SECOND = ("STS.role-key-two", "role-secret-two", "CAIS-token-two")


@dataclass(frozen=True)
class RoleCredentials:
    """``context.credentials`` as FC's Python runtime passes it."""

    access_key_id: str
    access_key_secret: str
    security_token: str


@dataclass(frozen=True)
class RoleContext(FcContext):
    credentials: RoleCredentials | None = None


def context_with(base: FcContext, key: tuple[str, str, str]) -> RoleContext:
    return RoleContext(base.request_id, base.function, credentials=RoleCredentials(*key))


@dataclass
class Cloud:
    telegram: TelegramFake
    tablestore: FakeTablestore
    mns: MnsFake


@pytest.fixture
def cloud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, telegram_fake: TelegramFake
) -> Iterator[Cloud]:
    """The alibaba profile on the fakes with only the role's credentials in the
    environment, as FC sets them; the fakes accept the first STS key."""
    with prepared_cloud() as (tablestore, mns), FakeDashScope(api_key=DASHSCOPE_KEY) as dashscope:
        for fake in (tablestore, mns):
            fake.grant_sts(*FIRST)
        env = alibaba_env(
            tmp_path / "var", tablestore, mns, dashscope,
            TELEGRAM_BOT_TOKEN=telegram_fake.token,
            TELEGRAM_API_BASE_URL=telegram_fake.api_base_url,
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            ALIBABA_CLOUD_ACCESS_KEY_ID=FIRST[0],
            ALIBABA_CLOUD_ACCESS_KEY_SECRET=FIRST[1],
            ALIBABA_CLOUD_SECURITY_TOKEN=FIRST[2],
        )  # fmt: skip
        del env["ALIBABA_ACCESS_KEY_ID"], env["ALIBABA_ACCESS_KEY_SECRET"]
        wanted = clean_environment(**env)
        for name in list(os.environ):
            if name not in wanted:
                monkeypatch.delenv(name)
        for name, value in wanted.items():
            monkeypatch.setenv(name, value)
        fc.reset_for_tests()
        try:
            yield Cloud(telegram_fake, tablestore, mns)
        finally:
            fc.reset_for_tests()


def tokens(cloud: Cloud, since: tuple[int, int]) -> tuple[set[str | None], set[str | None]]:
    """The security tokens Tablestore and MNS requests carried since ``since``."""
    ots = {r.headers.get("x-ots-ststoken") for r in cloud.tablestore.requests[since[0] :]}
    mns = {r.headers.get("security-token") for r in cloud.mns.requests[since[1] :]}
    return ots, mns


def marks(cloud: Cloud) -> tuple[int, int]:
    return len(cloud.tablestore.requests), len(cloud.mns.requests)


def test_the_functions_sign_with_the_role_and_pick_up_its_rotated_key(cloud: Cloud) -> None:
    fc.initializer(context_with(WEBHOOK, FIRST))
    start = marks(cloud)
    answer = fc.webhook_handler(
        http_event(cloud.telegram.push_text(USER, USER, "/start")), context_with(WEBHOOK, FIRST)
    )
    assert answer["statusCode"] == 200
    assert cloud.telegram.sent_messages(USER), "/start answered with the role's first key"
    assert tokens(cloud, start)[0] == {FIRST[2]}

    # FC rotates the role's credentials; the first key expires.
    for fake in (cloud.tablestore, cloud.mns):
        fake.grant_sts(*SECOND)
        fake.revoke_sts(FIRST[0])
    rotated = marks(cloud)
    answered = len(cloud.telegram.sent_messages(USER))
    answer = fc.webhook_handler(
        http_event(cloud.telegram.push_text(USER, USER, "/balance")),
        context_with(WEBHOOK, SECOND),
    )
    assert answer["statusCode"] == 200
    assert len(cloud.telegram.sent_messages(USER)) > answered, "/balance answered after it"
    summary = fc.worker_handler(timer_event(), context_with(WORKER, SECOND))
    assert json.loads(summary)["drained"] == 0
    ots, mns = tokens(cloud, rotated)
    assert ots == {SECOND[2]}
    assert mns == {SECOND[2]}, "the timer's drain polls MNS with the new key"
    assert all(r.status == 200 for r in cloud.tablestore.requests)


def test_an_invocation_without_context_credentials_keeps_the_environment_s(cloud: Cloud) -> None:
    fc.initializer(WEBHOOK)
    start = marks(cloud)
    fc.worker_handler(timer_event(), WORKER)
    ots, mns = tokens(cloud, start)
    assert mns == {FIRST[2]}
    assert ots <= {FIRST[2]}


# --- which keys the settings choose -------------------------------------------------------

BASE = {
    "VOICESCRIBE_PROFILE": "alibaba",
    "DASHSCOPE_API_KEY": "sk-1",
    "TELEGRAM_BOT_TOKEN": "1:abc",
    "TABLESTORE_ENDPOINT": "https://x.ots.aliyuncs.com",
    "TABLESTORE_INSTANCE": "vs",
    "MNS_ENDPOINT": "https://1.mns.aliyuncs.com",
    "MNS_QUEUE": QUEUE,
}
ROLE = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": FIRST[0],
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": FIRST[1],
    "ALIBABA_CLOUD_SECURITY_TOKEN": FIRST[2],
}


def test_the_role_s_keys_are_used_when_no_keys_are_configured() -> None:
    assert load_settings({**BASE, **ROLE}).alibaba_keys == FIRST


def test_configured_keys_win_over_the_role_s_and_may_carry_a_token() -> None:
    static = {"ALIBABA_ACCESS_KEY_ID": "LTAI-user", "ALIBABA_ACCESS_KEY_SECRET": "user-secret"}
    assert load_settings({**BASE, **ROLE, **static}).alibaba_keys == (
        "LTAI-user", "user-secret", "",
    )  # fmt: skip
    sts = {**static, "ALIBABA_SECURITY_TOKEN": "CAIS-given"}
    assert load_settings({**BASE, **sts}).alibaba_keys == ("LTAI-user", "user-secret", "CAIS-given")


def test_without_any_keys_start_up_names_the_missing_ones() -> None:
    with pytest.raises(
        ConfigurationError, match="ALIBABA_ACCESS_KEY_ID, ALIBABA_ACCESS_KEY_SECRET"
    ):
        load_settings(BASE)
    with pytest.raises(ConfigurationError, match="ALIBABA_ACCESS_KEY_SECRET"):
        load_settings({**BASE, **ROLE, "ALIBABA_ACCESS_KEY_ID": "LTAI-user"})
    # the local profile needs no keys at all
    load_settings({})
