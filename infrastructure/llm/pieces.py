"""Formatting a long transcript with an LLM: bounded pieces, formatted in parallel.

Every provider has an output limit and answers faster for shorter inputs, so long texts
are cut at paragraph, line, sentence or word boundaries, the pieces formatted at most
``parallel`` at a time, and joined in order. One failed piece fails the whole text (the
others are cancelled), so the chain moves on to the next formatter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from application.errors import FormattingFailed, PortError
from domain.text import split_for_telegram


def split_into_pieces(text: str, limit: int) -> list[str]:
    """``text`` cut into pieces of at most ~``limit`` characters; blank pieces dropped,
    the rest stripped."""
    pieces = split_for_telegram(text, use_code_tags=False, limit=limit)
    return [stripped for piece in pieces if (stripped := piece.strip())]


async def format_in_pieces(
    text: str,
    piece_chars: int,
    parallel: int,
    format_piece: Callable[[str], Awaitable[str]],
) -> str:
    pieces = split_into_pieces(text, piece_chars)
    if not pieces:
        raise FormattingFailed("there is no text to format", transient=False)
    if len(pieces) == 1:
        return await format_piece(pieces[0])
    limiter = asyncio.Semaphore(max(1, parallel))

    async def bounded(piece: str) -> str:
        async with limiter:
            return await format_piece(piece)

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(bounded(piece)) for piece in pieces]
    except* PortError as failures:
        raise failures.exceptions[0] from None
    return "\n\n".join(task.result() for task in tasks)
