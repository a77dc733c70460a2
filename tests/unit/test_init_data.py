"""Mini App ``initData``: only data Telegram signed for this bot, recently, names a user."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.init_data import InitDataRejected, sign, validate

NOW = 1_800_000_000.0
MAX_AGE = 86_400

tokens = st.from_regex(r"\A[0-9]{6,10}:[A-Za-z0-9_-]{20,35}\Z")
user_ids = st.integers(min_value=1, max_value=2**63 - 1)
ages = st.integers(min_value=0, max_value=MAX_AGE)
extra_values = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


def _fields(user_id: int, age: int, extra: str) -> dict[str, str]:
    user = {"id": user_id, "first_name": "Ann", "language_code": "ru"}
    return {
        "user": json.dumps(user),
        "auth_date": str(int(NOW) - age),
        "query_id": "AAH" + str(user_id),
        "start_param": extra,
    }


@given(tokens, user_ids, ages, extra_values)
def test_signed_data_names_its_user(token: str, user_id: int, age: int, extra: str) -> None:
    user = validate(sign(_fields(user_id, age, extra), token), token, NOW, MAX_AGE)
    assert user.user_id == user_id
    assert user.language_code == "ru"


@given(
    tokens,
    user_ids,
    ages,
    st.sampled_from(["user", "auth_date", "query_id", "start_param"]),
    extra_values,
)
def test_any_tampered_field_is_rejected(
    token: str, user_id: int, age: int, field: str, replacement: str
) -> None:
    pairs = dict(parse_qsl(sign(_fields(user_id, age, "x"), token), keep_blank_values=True))
    assume(pairs[field] != replacement)
    pairs[field] = replacement
    with pytest.raises(InitDataRejected):
        validate(urlencode(pairs), token, NOW, MAX_AGE)


@given(user_ids, st.integers(min_value=1, max_value=2**63 - 1))
def test_another_users_id_with_the_old_hash_is_rejected(user_id: int, other: int) -> None:
    token = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assume(other != user_id)
    pairs = dict(parse_qsl(sign(_fields(user_id, 0, ""), token), keep_blank_values=True))
    pairs["user"] = json.dumps({"id": other, "first_name": "Ann", "language_code": "ru"})
    with pytest.raises(InitDataRejected):
        validate(urlencode(pairs), token, NOW, MAX_AGE)


@given(tokens, tokens, user_ids, ages)
def test_data_signed_for_another_bot_is_rejected(
    token: str, other: str, user_id: int, age: int
) -> None:
    assume(token != other)
    with pytest.raises(InitDataRejected):
        validate(sign(_fields(user_id, age, ""), other), token, NOW, MAX_AGE)


@given(tokens, user_ids, st.integers(min_value=MAX_AGE + 1, max_value=10**9))
def test_expired_data_is_rejected(token: str, user_id: int, age: int) -> None:
    with pytest.raises(InitDataRejected):
        validate(sign(_fields(user_id, age, ""), token), token, NOW, MAX_AGE)


@given(tokens, user_ids, ages, st.sampled_from(["drop", "empty", "garbage"]))
def test_missing_or_malformed_hash_is_rejected(
    token: str, user_id: int, age: int, how: str
) -> None:
    pairs = dict(parse_qsl(sign(_fields(user_id, age, ""), token), keep_blank_values=True))
    if how == "drop":
        del pairs["hash"]
    else:
        pairs["hash"] = "" if how == "empty" else "z" * 64
    with pytest.raises(InitDataRejected):
        validate(urlencode(pairs), token, NOW, MAX_AGE)


@given(st.text(max_size=300))
def test_arbitrary_text_never_passes_and_never_crashes(garbage: str) -> None:
    with pytest.raises(InitDataRejected):
        validate(garbage, "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ", NOW, MAX_AGE)


def test_no_token_configured_rejects_everything() -> None:
    data = sign(_fields(7, 0, ""), "")
    with pytest.raises(InitDataRejected):
        validate(data, "", NOW, MAX_AGE)


def test_a_field_given_twice_is_rejected() -> None:
    token = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    data = sign(_fields(7, 0, ""), token)
    with pytest.raises(InitDataRejected):
        validate(data + "&auth_date=1", token, NOW, MAX_AGE)
