"""One contract for every TextFormatter: it keeps the words, and fails only as FormattingFailed.

Cloud formatters run on their real SDKs against the protocol fakes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import pytest

from application.errors import FormattingFailed
from application.ports import TextFormatter
from domain.jobs import UserStyle
from infrastructure.dashscope import QwenFormatter
from infrastructure.gemini import GeminiFormatter
from infrastructure.local.formatter import ParagraphFormatter
from infrastructure.retrying import RetryPolicy
from tests.fakes.dashscope_server import INVALID_KEY, FakeDashScope
from tests.fakes.gemini_server import GeminiFake, Step

ONE_TRY = RetryPolicy(attempts=1)
TEXT = "First sentence here. Second one follows! And a third? " * 3

# Each factory gives (formatter, make_it_fail or None) inside the exit stack.
Factory = Callable[[AsyncExitStack], tuple[TextFormatter, Callable[[], None] | None]]


def local(stack: AsyncExitStack) -> tuple[TextFormatter, Callable[[], None] | None]:
    return ParagraphFormatter(), None


def qwen(stack: AsyncExitStack) -> tuple[TextFormatter, Callable[[], None] | None]:
    fake = stack.enter_context(FakeDashScope())
    formatter = QwenFormatter(fake.api_key, fake.base_url, timeout_seconds=5, retry=ONE_TRY)
    stack.push_async_callback(formatter.close)
    return formatter, lambda: fake.queue_llm(INVALID_KEY)


def gemini(stack: AsyncExitStack) -> tuple[TextFormatter, Callable[[], None] | None]:
    fake = stack.enter_context(GeminiFake())
    formatter = GeminiFormatter(fake.api_key, fake.base_url, timeout_seconds=5, retry=ONE_TRY)
    stack.push_async_callback(formatter.close)
    return formatter, lambda: fake.then(Step(status=500))


@pytest.fixture(params=[local, qwen, gemini], ids=["local", "qwen", "gemini"])
async def formatter_under_test(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[TextFormatter, Callable[[], None] | None]]:
    async with AsyncExitStack() as stack:
        yield request.param(stack)


async def test_keeps_every_word_in_order(formatter_under_test) -> None:  # type: ignore[no-untyped-def]
    formatter, _ = formatter_under_test
    formatted = await formatter.format(TEXT, UserStyle())
    assert formatted.split() == TEXT.split()
    assert formatter.name


@pytest.fixture(params=[qwen, gemini], ids=["qwen", "gemini"])
async def cloud_formatter(
    request: pytest.FixtureRequest,
) -> AsyncIterator[tuple[TextFormatter, Callable[[], None] | None]]:
    async with AsyncExitStack() as stack:
        yield request.param(stack)


async def test_fails_only_with_the_ports_error(cloud_formatter) -> None:  # type: ignore[no-untyped-def]
    formatter, make_it_fail = cloud_formatter
    assert make_it_fail is not None
    make_it_fail()
    with pytest.raises(FormattingFailed):
        await formatter.format(TEXT, UserStyle())
