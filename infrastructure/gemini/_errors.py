"""Translation of everything the google-genai SDK may raise into ``FormattingFailed``.

Why this exists: the use cases see port errors only. ``transient`` decides whether our
retry loop tries again (throttling, 5xx, timeouts, network) or the chain moves straight
on to the next formatter (bad key, refused request, unusable answer).
"""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import httpx
from google.genai import errors as genai_errors

from application.errors import FormattingFailed

_TRANSIENT_CODES = frozenset({408, 429})
_PERMANENT_REASONS = {
    400: "Gemini rejected the request as invalid",
    401: "Gemini rejected the API key",
    403: "Gemini refused access (API key without permission, or region not supported)",
    404: "Gemini does not know this model or method",
}
_SECONDS = re.compile(r"^(\d+(?:\.\d+)?)s$")


def to_formatting_failed(error: Exception, timeout_seconds: float) -> FormattingFailed:
    """The port error for ``error``; with ``retry_after`` when the server suggested one."""
    if isinstance(error, genai_errors.APIError):
        return _from_api_error(error)
    if isinstance(error, TimeoutError):
        return FormattingFailed(
            f"Gemini did not answer within {timeout_seconds:g} s", transient=True
        )
    if isinstance(error, aiohttp.ClientError | httpx.TransportError | OSError):
        return FormattingFailed(
            f"could not reach Gemini: {type(error).__name__}: {error}", transient=True
        )
    return FormattingFailed(
        f"unexpected error from the Gemini SDK: {type(error).__name__}: {error}",
        transient=False,
    )


def _from_api_error(error: genai_errors.APIError) -> FormattingFailed:
    code = error.code
    detail = f"({code} {error.status}): {error.message}"
    if code in _TRANSIENT_CODES or code >= 500:
        failure = FormattingFailed(f"Gemini is unavailable {detail}", transient=True)
        hint = _retry_delay(error.details)
        if hint is not None:
            failure.retry_after = hint  # type: ignore[attr-defined]  # read by with_retries
        return failure
    reason = _PERMANENT_REASONS.get(code, "Gemini refused the request")
    return FormattingFailed(f"{reason} {detail}", transient=False)


def _retry_delay(details: Any) -> float | None:
    """``retryDelay`` of a ``google.rpc.RetryInfo`` detail, e.g. ``"7s"`` -> 7.0."""
    try:
        items = details["error"]["details"]
    except (KeyError, TypeError):
        return None
    for item in items if isinstance(items, list) else []:
        match = _SECONDS.match(str(item.get("retryDelay", ""))) if isinstance(item, dict) else None
        if match:
            return float(match.group(1))
    return None
