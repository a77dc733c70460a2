"""``voicescribe webhook`` (uvicorn) and ``voicescribe set-webhook URL``."""

from __future__ import annotations

import sys

import uvicorn
from telegram import Update

from entrypoints.container import Container
from entrypoints.settings import Settings
from entrypoints.webhook import create_webhook_app


def serve_webhook(
    container: Container, settings: Settings, host: str, port: int, workers: int
) -> int:
    app = create_webhook_app(
        container,
        settings.text["TELEGRAM_WEBHOOK_SECRET"],
        workers=workers,
        concurrency=int(settings.numbers["WEBHOOK_CONCURRENCY"]),
    )
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
    return 0


async def register_webhook(container: Container, settings: Settings, url: str) -> int:
    bot = container.telegram_bot()
    async with bot:
        await bot.set_webhook(
            url,
            secret_token=settings.text["TELEGRAM_WEBHOOK_SECRET"],
            allowed_updates=Update.ALL_TYPES,
        )
    print(f"webhook set: {url}", file=sys.stderr)
    return 0
