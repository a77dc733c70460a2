"""Waiting on a background task in a test without ever waiting forever.

Why this exists: ``asyncio.wait_for`` on Python 3.11 cancels the task at its deadline and
then waits for the task to finish, however long that takes. PTB's ``Updater.stop``
suppresses a ``CancelledError`` while it waits for its polling task, so a bot that is slow
to stop can swallow the cancellation and keep the test (and CI) waiting with no output.
Here a task that misses its deadline is cancelled once, given a short grace, and the test
fails with the task's stack, whether or not the task ever ends.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

GRACE_SECONDS = 5.0


async def finish(
    task: asyncio.Task[T], seconds: float, what: str = "the task", grace: float = GRACE_SECONDS
) -> T:
    """The task's result if it ends within ``seconds``; else an AssertionError naming
    where it was stuck."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        return task.result()
    stack = _stack_of(task)
    task.cancel()
    await asyncio.wait({task}, timeout=grace)
    state = "ended when cancelled" if task.done() else "ignored its cancellation"
    raise AssertionError(f"{what} did not end within {seconds} s ({state}); it was at:\n{stack}")


async def until(
    condition: Callable[[], bool],
    seconds: float,
    what: str,
    *,
    unless_done: asyncio.Task[object] | None = None,
) -> None:
    """Poll ``condition``; fail after ``seconds``, or at once if ``unless_done`` ends first
    (a server that exits never starts)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        if unless_done is not None and unless_done.done():
            error = unless_done.exception() if not unless_done.cancelled() else None
            raise AssertionError(f"{what}: the task ended first ({error!r})")
        if asyncio.get_running_loop().time() >= deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        await asyncio.sleep(0.01)


def _stack_of(task: asyncio.Task[T]) -> str:
    text = io.StringIO()
    task.print_stack(file=text)
    return text.getvalue()
