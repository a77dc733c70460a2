"""The floor of benchmark 1: a bare ASGI endpoint that reads the body and answers 200,
served by uvicorn exactly as ``voicescribe webhook`` serves the bot.

``python -m benchmarks.bare_asgi HTTP LOOP PORT``: HTTP is uvicorn's parser (``h11`` or
``httptools``), LOOP the event loop (``asyncio`` or ``uvloop``)."""

from __future__ import annotations

import sys

import uvicorn


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]}
    )
    await send({"type": "http.response.body", "body": b""})


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[3]),
        http=sys.argv[1],
        loop=sys.argv[2],
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
