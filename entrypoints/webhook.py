"""``voicescribe webhook``: an ASGI app that takes Telegram's webhook calls.

A request is checked (secret in constant time, size, JSON shape), its ``update_id``
claimed so a redelivery is acknowledged and ignored, and the update handed to the bot's
queue: the answer is 200 at once and the work happens after it, never inside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from entrypoints.container import Container
from entrypoints.serve_command import build_bot
from entrypoints.worker_loop import run_workers

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1_000_000


class BodyTooLarge(Exception):
    pass


def create_webhook_app(
    container: Container, secret: str, *, workers: int = 0, max_body_bytes: int = MAX_BODY_BYTES
) -> Starlette:
    if not secret:
        raise ValueError("the webhook needs TELEGRAM_WEBHOOK_SECRET")
    ptb = build_bot(container, polling=False)
    processed = container.processed_updates()
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return Response(status_code=403)
        try:
            body = await _read_limited(request, max_body_bytes)
        except BodyTooLarge:
            return Response(status_code=413)
        update_id, data = _parse(body)
        if data is None or update_id is None:
            return Response(status_code=400)
        if not await processed.claim(f"update:{update_id}"):
            return Response(status_code=200)  # Telegram redelivered it: already taken
        try:
            update = Update.de_json(data, ptb.bot)
        except Exception:
            log.warning("update %s does not parse; dropped", update_id, exc_info=True)
            return Response(status_code=200)  # a 4xx would only make Telegram retry it
        await ptb.update_queue.put(update)
        return Response(status_code=200)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        async with ptb:
            await ptb.start()
            pool = asyncio.create_task(run_workers(container.application().consumer, workers, stop))
            try:
                yield
            finally:
                stop.set()
                await ptb.stop()
                await pool
        await container.closing().close_all()

    routes = [Route(WEBHOOK_PATH, receive, methods=["POST"]), Route("/healthz", health)]
    return Starlette(routes=routes, lifespan=lifespan)


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)


def _parse(body: bytes) -> tuple[int | None, dict[str, object] | None]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None, None
    return update_id, data
