"""QwenFormatter with the real dashscope SDK against a local fake of the REST API.

The request on the wire (model, shared prompt, plain-string messages), the answer guards
(thinking stripped, a cut-off answer rejected), failures mapped onto ``FormattingFailed``,
and long texts formatted as several parallel requests joined in their original order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from application.errors import FormattingFailed
from domain.jobs import UserStyle
from infrastructure.dashscope import QwenFormatter
from infrastructure.llm.pieces import split_into_pieces
from infrastructure.llm.prompt import system_prompt
from infrastructure.retrying import RetryPolicy
from tests.fakes.dashscope_server import HANG, SERVER_ERROR, Answer, FakeDashScope, RecordedRequest

FAST_RETRY = RetryPolicy(attempts=3, base_delay_seconds=0.01, max_delay_seconds=0.02)
STYLE = UserStyle(use_yo=False)


@pytest.fixture
def fake() -> Iterator[FakeDashScope]:
    with FakeDashScope() as server:
        yield server


@pytest.fixture
async def formatter(fake: FakeDashScope) -> AsyncIterator[QwenFormatter]:
    adapter = QwenFormatter(fake.api_key, fake.base_url, timeout_seconds=2.0, retry=FAST_RETRY)
    yield adapter
    await adapter.close()


async def test_formats_with_the_shared_prompt(
    fake: FakeDashScope, formatter: QwenFormatter
) -> None:
    fake.queue_llm(Answer("Hello, world.\n\nSecond paragraph."))

    result = await formatter.format("hello world second paragraph", STYLE)

    assert result == "Hello, world.\n\nSecond paragraph."
    assert formatter.name == "qwen"
    [request] = fake.requests
    assert request.headers["authorization"] == f"Bearer {fake.api_key}"
    assert request.body["model"] == "qwen-turbo"
    assert request.parameters["result_format"] == "message"
    assert request.message("system") == system_prompt(STYLE)
    assert request.message("user") == "hello world second paragraph"


async def test_thinking_is_stripped(fake: FakeDashScope, formatter: QwenFormatter) -> None:
    fake.queue_llm(Answer("<think>The user wants commas.</think>\nHello, world."))

    assert await formatter.format("hello world", STYLE) == "Hello, world."


async def test_cut_off_answer_is_rejected(fake: FakeDashScope, formatter: QwenFormatter) -> None:
    fake.queue_llm(Answer("Hello, wor", finish_reason="length"))

    with pytest.raises(FormattingFailed, match="cut off") as caught:
        await formatter.format("hello world", STYLE)

    assert not caught.value.transient
    assert len(fake.requests) == 1


async def test_server_errors_give_transient_failure_after_retries(
    fake: FakeDashScope, formatter: QwenFormatter
) -> None:
    fake.queue_llm(*[SERVER_ERROR] * 5)

    with pytest.raises(FormattingFailed) as caught:
        await formatter.format("hello world", STYLE)

    assert caught.value.transient
    assert len(fake.requests) == FAST_RETRY.attempts


async def test_rejected_key_is_permanent(fake: FakeDashScope) -> None:
    adapter = QwenFormatter("wrong", fake.base_url, retry=FAST_RETRY)

    with pytest.raises(FormattingFailed, match="rejected the API key") as caught:
        await adapter.format("hello world", STYLE)
    await adapter.close()

    assert not caught.value.transient
    assert len(fake.requests) == 1


async def test_hanging_server_times_out(fake: FakeDashScope) -> None:
    fake.queue_llm(HANG)
    adapter = QwenFormatter(fake.api_key, fake.base_url, timeout_seconds=0.2, retry=FAST_RETRY)

    assert await adapter.format("hello world", STYLE) == "hello world"  # the retry succeeds
    await adapter.close()

    assert [r.answered_at is None for r in fake.requests] == [True, False]


def _paragraphs(count: int) -> list[str]:
    return [f"Paragraph {i} begins. " + "Some spoken words here. " * 100 for i in range(count)]


def _slow_first(request: RecordedRequest) -> float:
    """The first piece answers last, so joining in completion order would show."""
    return 0.4 if "Paragraph 0 " in str(request.message("user")) else 0.1


async def test_long_text_goes_as_parallel_pieces_joined_in_order(fake: FakeDashScope) -> None:
    fake.latency = _slow_first
    fake.reply = lambda r: str(r.message("user")).upper()
    text = "\n\n".join(_paragraphs(8))  # about 19,000 characters
    adapter = QwenFormatter(fake.api_key, fake.base_url, retry=FAST_RETRY, parallel_pieces=3)

    result = await adapter.format(text, STYLE)
    await adapter.close()

    pieces = split_into_pieces(text, 6000)
    assert len(fake.requests) == len(pieces) >= 4
    assert result == "\n\n".join(piece.upper() for piece in pieces)
    assert 2 <= fake.max_in_flight() <= 3


def test_pieces_are_bounded_and_lose_no_words() -> None:
    text = "\n\n".join(_paragraphs(8))

    pieces = split_into_pieces(text, 6000)

    assert all(len(piece) <= 6000 for piece in pieces)
    assert " ".join(pieces).split() == text.split()
    assert all(piece.startswith("Paragraph") for piece in pieces)
    assert split_into_pieces(" \n\n ", 6000) == []
