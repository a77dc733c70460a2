"""The tests' own deadline helpers fail instead of hanging, whatever the task does, and
the hang report shows where each task is stuck."""

from __future__ import annotations

import asyncio
import contextlib
import io

import pytest

from tests.bounded_waits import finish, until
from tests.hang_report import report_tasks


async def test_a_task_that_ends_in_time_gives_its_result() -> None:
    async def answer() -> int:
        await asyncio.sleep(0.01)
        return 42

    assert await finish(asyncio.create_task(answer()), 5) == 42


async def test_a_task_that_swallows_its_cancellation_still_fails_the_test_in_time() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(3600)

    task = asyncio.create_task(stubborn())
    started = asyncio.get_running_loop().time()
    with pytest.raises(AssertionError, match="ignored its cancellation") as failure:
        await finish(task, 0.05, "stubborn", grace=0.05)
    assert asyncio.get_running_loop().time() - started < 2
    assert "stubborn" in str(failure.value) and "sleep" in str(failure.value)  # where it was
    release.set()
    task.cancel()
    await asyncio.wait({task})


async def test_waiting_for_a_server_that_exited_fails_at_once() -> None:
    async def crashes() -> None:
        raise OSError("address in use")

    server = asyncio.create_task(crashes())
    with pytest.raises(AssertionError, match="address in use"):
        await until(lambda: False, 30, "start", unless_done=server)


async def test_the_hang_report_names_what_each_task_awaits() -> None:
    """Called from another thread, as its timer does, while this loop runs."""
    stuck = asyncio.Event()

    async def waits_for_a_reply_that_never_comes() -> None:
        await stuck.wait()

    task = asyncio.create_task(waits_for_a_reply_that_never_comes(), name="stuck-task")
    await asyncio.sleep(0)
    out = io.StringIO()
    await asyncio.to_thread(report_tasks, "a test", out)
    task.cancel()
    text = out.getvalue()
    assert "stuck-task" in text and "waits_for_a_reply_that_never_comes" in text
    assert "await stuck.wait()" in text  # the line it is stuck on
