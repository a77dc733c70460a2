"""``voicescribe webhook``: an ASGI app that takes Telegram's webhook calls.

A request is checked (secret in constant time, size, JSON shape), its ``update_id``
claimed together with its body in the durable inbox (so a redelivery is acknowledged and
ignored), and handled in the background: the answer is 200 at once and the work happens
after it, never inside it. An update is marked finished once handled; a webhook that
starts replays what a crashed one acknowledged but never finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application as PtbApplication

from application.ports import ProcessedUpdates
from entrypoints.container import Container
from entrypoints.serve_command import build_bot
from entrypoints.worker_loop import run_workers

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1_000_000
REPLAY_AFTER_SECONDS = 300.0  # older unfinished updates belong to no live instance any more


class BodyTooLarge(Exception):
    pass


def create_webhook_app(
    container: Container, secret: str, *, workers: int = 0, max_body_bytes: int = MAX_BODY_BYTES
) -> Starlette:
    if not secret:
        raise ValueError("the webhook needs TELEGRAM_WEBHOOK_SECRET")
    ptb = build_bot(container, polling=False)
    processed = container.processed_updates()
    inbox = Inbox(ptb, processed)
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
        key = f"update:{update_id}"
        if not await processed.claim(key, body.decode("utf-8")):
            return Response(status_code=200)  # Telegram redelivered it: already taken
        inbox.handle(key, data)
        return Response(status_code=200)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        async with ptb:
            await ptb.start()
            await inbox.replay(time.time() - REPLAY_AFTER_SECONDS)
            pool = asyncio.create_task(run_workers(container.application().consumer, workers, stop))
            try:
                yield
            finally:
                stop.set()
                await inbox.drain()
                await ptb.stop()
                await pool
        await container.closing().close_all()

    routes = [Route(WEBHOOK_PATH, receive, methods=["POST"]), Route("/healthz", health)]
    return Starlette(routes=routes, lifespan=lifespan)


class Inbox:
    """Handles claimed updates in the background and marks each finished when done."""

    def __init__(self, ptb: PtbApplication, processed: ProcessedUpdates) -> None:  # type: ignore[type-arg]
        self._ptb = ptb
        self._processed = processed
        self._tasks: set[asyncio.Task[None]] = set()

    def handle(self, key: str, data: dict[str, object]) -> None:
        task = asyncio.create_task(self._handle(key, data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def replay(self, claimed_before: float) -> None:
        for key, payload in await self._processed.unfinished(claimed_before, 1000):
            log.warning("replaying %s, acknowledged but never finished", key)
            try:
                data = json.loads(payload)
            except json.JSONDecodeError:
                data = None
            if isinstance(data, dict):
                self.handle(key, data)
            else:
                await self._processed.finish(key)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, key: str, data: dict[str, object]) -> None:
        try:
            update = Update.de_json(data, self._ptb.bot)
        except Exception:
            log.warning("%s does not parse; dropped", key, exc_info=True)
        else:
            try:
                await self._ptb.process_update(update)
            except Exception:
                log.exception("%s failed", key)  # PTB's error handler has seen it too
        try:
            await self._processed.finish(key)
        except Exception:
            log.warning("%s handled but not marked finished; it may be replayed", key)


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
