"""PTB's networking backend on aiohttp instead of httpx.

Why this exists: every Bot API call of the bot goes through this one door, and with
httpx it was the costliest thing the webhook did: httpcore re-examines every pooled
connection (a ``select`` each) on every request, so one ``sendMessage`` cost ~2 ms of CPU
with a pool of 32 and ~1 ms with 4 (benchmark 1, handling 2,000 voice notes: 7.8 ms of
CPU per note, 4.7 of them in the Bot API client). aiohttp keeps idle connections in a
plain list and needs ~0.2 ms per call. PTB documents ``BaseRequest`` as the place to plug
another HTTP library in; errors are mapped onto PTB's own ``TimedOut``/``NetworkError``,
so everything above (retries, ``RetryAfter``) behaves as with the default backend.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """Keep-alive pool of ``pool_size`` connections; timeouts per phase as PTB passes them."""

    def __init__(
        self,
        pool_size: int = 8,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        write_timeout: float = 60.0,
        pool_timeout: float = 10.0,
    ) -> None:
        self._pool_size = pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(  # noqa: PLR0917 - BaseRequest's signature, PTB calls it so
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = aiohttp.ClientTimeout(
            # aiohttp has no separate write phase: the body must be sent within connect +
            # write, the answer must start within the read timeout after that.
            connect=_given(pool_timeout, self._pool_timeout),
            sock_connect=_given(connect_timeout, self._connect_timeout),
            sock_read=_given(read_timeout, self._read_timeout)
            + _given(write_timeout, self._write_timeout),
        )
        body = _body(request_data)
        try:
            async with self._session.request(
                method, url, data=body, timeout=timeout, headers={"User-Agent": self.USER_AGENT}
            ) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _given(value: ODVInput[float], default: float) -> float:
    if isinstance(value, DefaultValue) or value is None:
        return default
    return float(value)


def _body(request_data: RequestData | None) -> Any:
    """Form fields as Telegram takes them; multipart when there are files to upload."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields or None
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, part in files.items():
        filename, content, mime_type = _file_part(part)
        if hasattr(content, "read"):
            content = content.read()
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form


def _file_part(part: Any) -> tuple[str | None, Any, str | None]:
    """PTB gives ``(filename, content, mimetype)``, ``(filename, content)`` or content."""
    if isinstance(part, tuple):
        filename = part[0] if len(part) > 0 else None
        content = part[1] if len(part) > 1 else b""
        mime_type = part[2] if len(part) > 2 else None
        return filename, content, mime_type
    return None, part, None
