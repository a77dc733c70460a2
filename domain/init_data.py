"""Telegram Mini App ``initData``: who is calling, proven by the bot token.

The Mini App page sends the ``initData`` string Telegram gave it with every API call; the
server trusts a user id only from data whose ``hash`` matches Telegram's rule (the
HMAC-SHA256 of the sorted ``key=value`` lines, keyed with HMAC-SHA256("WebAppData",
bot token)), compared in constant time, and whose ``auth_date`` is recent. Pure: the caller
passes the token, the data and the current time. ``sign`` builds valid data (what
Telegram does), for tests and the benchmarks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qsl, urlencode

import attrs

DEFAULT_MAX_AGE_SECONDS = 86_400
# A clock a little behind Telegram's must not refuse fresh data.
CLOCK_SKEW_SECONDS = 60


class InitDataRejected(Exception):
    """The data is not Telegram's for this bot, is too old, or names no user."""


@attrs.frozen
class WebAppUser:
    user_id: int
    language_code: str | None
    first_name: str


def _secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign(fields: dict[str, str], bot_token: str) -> str:
    """``fields`` as Telegram would send them for this bot: url-encoded, with their hash."""
    digest = hmac.new(
        _secret_key(bot_token), _check_string(fields).encode(), hashlib.sha256
    ).hexdigest()
    return urlencode({**{k: v for k, v in fields.items() if k != "hash"}, "hash": digest})


def validate(init_data: str, bot_token: str, now: float, max_age_seconds: float) -> WebAppUser:
    """The user the data names, if Telegram signed it for this bot within ``max_age_seconds``;
    else ``InitDataRejected``."""
    if not bot_token:
        raise InitDataRejected("no bot token to check against")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as error:
        raise InitDataRejected("not url-encoded") from error
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataRejected("a field given twice")
    given = fields.get("hash", "")
    if not given:
        raise InitDataRejected("no hash")
    expected = hmac.new(
        _secret_key(bot_token), _check_string(fields).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        raise InitDataRejected("hash does not match")
    auth_date = fields.get("auth_date", "")
    if not auth_date.isdigit() or len(auth_date) > 12:
        raise InitDataRejected("no auth_date")
    age = now - int(auth_date)
    if age > max_age_seconds or age < -CLOCK_SKEW_SECONDS:
        raise InitDataRejected("expired")
    return _user(fields.get("user", ""))


def _user(raw: str) -> WebAppUser:
    try:
        user = json.loads(raw)
    except ValueError as error:
        raise InitDataRejected("user is not JSON") from error
    if not isinstance(user, dict):
        raise InitDataRejected("user is not an object")
    user_id = user.get("id")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not 0 < user_id < 2**63:
        raise InitDataRejected("user has no id")
    language = user.get("language_code")
    name = user.get("first_name")
    return WebAppUser(
        user_id=user_id,
        language_code=language if isinstance(language, str) else None,
        first_name=name if isinstance(name, str) else "",
    )
