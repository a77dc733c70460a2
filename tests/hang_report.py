"""When a test runs far longer than any should, print what every asyncio task awaits.

Why this exists: pytest-timeout prints every thread's stack, but a hung asyncio test shows
only its event loop in ``select`` there; what is stuck is a coroutine. Shortly before the
timeout fails the test, this prints each running loop's tasks with their stacks (shown
with the failed test's captured output).
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

import pytest

REPORT_AFTER_SECONDS = 200.0  # pytest-timeout fails the test at 240 s (pyproject.toml)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    timer = threading.Timer(REPORT_AFTER_SECONDS, report_tasks, args=(item.nodeid,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def report_tasks(what: str, out: TextIO | None = None) -> None:
    """Print the stack of every task of every running event loop (from any thread)."""
    out = out or sys.stderr
    print(f"\n=== {what}: still running; the asyncio tasks ===", file=out)
    loops = [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop)]
    for loop in loops:
        if not loop.is_running():
            continue
        for task in asyncio.all_tasks(loop):
            print(f"--- {task.get_name()} ({task.get_coro()!r})", file=out)
            task.print_stack(file=out)
    out.flush()
