"""Shutdown closes every adapter, in reverse order, even when one of them never ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from entrypoints.composition.closing import Closing


async def test_adapters_close_in_reverse_order_and_a_failure_stops_none() -> None:
    closed: list[str] = []
    closing = Closing()

    async def fails() -> None:
        closed.append("queue")
        raise OSError("socket gone")

    closing.register("storage", lambda: closed.append("storage"))
    closing.register("queue", fails)
    closing.register("bot", lambda: closed.append("bot"))
    await closing.close_all()
    assert closed == ["bot", "queue", "storage"]


async def test_a_close_that_never_ends_is_cut_off_and_the_rest_still_close(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed: list[str] = []
    release = asyncio.Event()

    async def never_ends() -> None:  # an executor waiting on a socket that never answers
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(3600)

    closing = Closing(timeout_seconds=0.05)
    closing.register("storage", lambda: closed.append("storage"))
    closing.register("stuck sdk", never_ends)
    with caplog.at_level(logging.ERROR):
        await asyncio.wait_for(closing.close_all(), 5)
    assert closed == ["storage"]
    assert "closing stuck sdk took over" in caplog.text
    release.set()  # the loop's teardown cancels the abandoned close, which then ends
