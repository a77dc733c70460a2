"""One DashScope call made safe: a timeout, and every outcome mapped onto a port error.

Why this exists: the SDK reports HTTP errors as a response object (``status_code``,
``code``, ``message``, ``output=None``) instead of raising, and raises aiohttp or its own
exceptions for transport problems. Both adapters need the same translation so that no SDK
exception escapes and ``with_retries`` sees ``transient`` right: 408/429/5xx, timeouts
and network errors are worth retrying; a bad key or a refused request is not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from dashscope.api_entities.aio_session import close_shared_aio_session
from dashscope.common.error import DashScopeException

from application.errors import PortError

INTL_BASE_URL = "https://dashscope-intl.aliyuncs.com/api/v1"
E = TypeVar("E", bound=PortError)

_PERMANENT_REASONS = {
    400: "DashScope rejected the request as invalid",
    401: "DashScope rejected the API key",
    403: "DashScope refused access (the API key may not be allowed this model)",
    404: "DashScope does not know this model or endpoint",
}


async def call_dashscope(
    call: Callable[[], Awaitable[Any]], *, timeout_seconds: float, error: type[E]
) -> Any:
    """The SDK's response to a call answered with 200; otherwise raises ``error``."""
    try:
        async with asyncio.timeout(timeout_seconds):
            response = await call()
    except TimeoutError as exc:
        raise error(
            f"DashScope did not answer within {timeout_seconds:g} s", transient=True
        ) from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise error(
            f"could not reach DashScope: {type(exc).__name__}: {exc}", transient=True
        ) from exc
    except DashScopeException as exc:
        raise error(f"the DashScope SDK refused the call: {exc}", transient=False) from exc
    except Exception as exc:  # whatever else the SDK raises must not escape the adapter
        raise error(
            f"unexpected error from the DashScope SDK: {type(exc).__name__}: {exc}",
            transient=False,
        ) from exc
    status = getattr(response, "status_code", None)
    if status == 200:
        return response
    raise _status_error(response, status, error)


def _status_error(response: Any, status: int | None, error: type[E]) -> E:
    code = getattr(response, "code", "") or ""
    message = str(getattr(response, "message", "") or "")[:300]
    detail = f"({status} {code}): {message}".rstrip(": ")
    if status is None:
        return error(f"DashScope answered with no status {detail}", transient=False)
    if status in (408, 429) or status >= 500:
        failure = error(f"DashScope is busy or failing {detail}", transient=True)
        hint = _retry_after(getattr(response, "headers", None))
        if hint is not None:
            failure.retry_after = hint  # type: ignore[attr-defined]  # read by with_retries
        return failure
    reason = _PERMANENT_REASONS.get(status, "DashScope refused the request")
    refusal = error(f"{reason} {detail}", transient=False)
    refusal.dashscope_status = status  # type: ignore[attr-defined]  # read by refused_input
    return refusal


def refused_input(failure: PortError) -> bool:
    """Whether DashScope answered 400: it could not take what it was sent (a parameter or
    the audio itself, e.g. a format it does not read)."""
    return getattr(failure, "dashscope_status", None) == 400


def _retry_after(headers: Any) -> float | None:
    """``Retry-After`` in seconds, when the server sent one."""
    try:
        value = float(headers.get("Retry-After") or headers.get("retry-after"))
    except (AttributeError, TypeError, ValueError):
        return None
    return value if value >= 0 else None


async def close_dashscope_sessions() -> None:
    """Close the SDK's aiohttp session of the running event loop (call at shutdown)."""
    await close_shared_aio_session()
