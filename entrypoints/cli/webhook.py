"""``voicescribe webhook`` (the ASGI app under uvicorn) and ``voicescribe set-webhook URL``."""

from __future__ import annotations

import sys

import uvicorn
from telegram import MenuButtonWebApp, Update, WebAppInfo
from telegram.error import TelegramError

from entrypoints.composition.container import Container
from entrypoints.http.app import create_webhook_app


def webhook_workers(requested: int | None, queue_backend: str) -> int:
    """Queue workers the webhook runs: as asked, else one with the SQLite queue (nothing
    else would take its long notes, unless a ``voicescribe worker`` is started and
    ``--workers 0`` given) and none with MNS (Function Compute's worker function or a
    ``voicescribe worker`` drains it)."""
    if requested is not None:
        return max(0, requested)
    return 1 if queue_backend == "sqlite" else 0


# uvicorn's HTTP parsers and event loops, the default first: httptools and uvloop ack
# updates faster than h11 and asyncio's loop (benchmarks/README.md, webhook ingest).
HTTP_PARSERS = ("httptools", "h11")
EVENT_LOOPS = ("uvloop", "asyncio")


def serve_webhook(
    container: Container,
    host: str,
    port: int,
    workers: int,
    *,
    http: str = HTTP_PARSERS[0],
    loop: str = EVENT_LOOPS[0],
) -> int:
    settings = container.settings()
    app = create_webhook_app(
        container,
        settings.telegram_webhook_secret,
        workers=workers,
        concurrency=settings.webhook_concurrency,
    )
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, http=http, loop=loop)
    return 0


async def register_webhook(container: Container, url: str) -> int:
    bot = container.telegram_bot()
    async with bot:
        await bot.set_webhook(
            url,
            secret_token=container.settings().telegram_webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
        webapp_url = container.settings().webapp_url
        if webapp_url:  # the menu button opens the Mini App (best effort: /upload works too)
            try:
                await bot.set_chat_menu_button(
                    menu_button=MenuButtonWebApp("voicescribe", WebAppInfo(url=webapp_url))
                )
                print(f"menu button opens the Mini App: {webapp_url}", file=sys.stderr)
            except TelegramError as error:
                print(f"menu button not set: {error}", file=sys.stderr)
    print(f"webhook set: {url}", file=sys.stderr)
    return 0
