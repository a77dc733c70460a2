"""One contract for every ``ActionWriter`` (the formatters' models asked about a
transcript, #17), on their real SDKs against the protocol fakes: the action's
instructions reach the model as its system instructions with the transcript as the user's
text, the answer comes back through the formatters' guards (a cut-off answer refused), a
long text asked in pieces comes back whole and in order, and every failure is
``FormattingFailed``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest

from application.errors import FormattingFailed
from application.ports import ActionWriter
from infrastructure.dashscope import QwenFormatter
from infrastructure.gemini import GeminiFormatter
from infrastructure.retrying import RetryPolicy
from tests.fakes.dashscope_server import INVALID_KEY, Answer, FakeDashScope
from tests.fakes.gemini_server import GeminiFake, Step

ONE_TRY = RetryPolicy(attempts=1)
INSTRUCTIONS = "You summarise a speech-recognition transcript. Answer with plain text only."
TEXT = "First sentence here. Second one follows! And a third? " * 3


class Writer:
    """A writer under test with its fake: what the model was told, and how to break it."""

    def __init__(
        self,
        writer: ActionWriter,
        told: Callable[[], list[str]],
        fail: Callable[[], None],
        cut_off: Callable[[], None],
    ) -> None:
        self.writer, self.told, self.fail, self.cut_off = writer, told, fail, cut_off


def qwen(stack: AsyncExitStack) -> Writer:
    fake = stack.enter_context(FakeDashScope())
    writer = QwenFormatter(
        fake.api_key, fake.base_url, timeout_seconds=5, retry=ONE_TRY, piece_chars=60
    )
    stack.push_async_callback(writer.close)
    return Writer(
        writer,
        lambda: [str(r.message("system")) for r in fake.requests],
        lambda: fake.queue_llm(INVALID_KEY),
        lambda: fake.queue_llm(Answer("half an ans", finish_reason="length")),
    )


def gemini(stack: AsyncExitStack) -> Writer:
    fake = stack.enter_context(GeminiFake())
    writer = GeminiFormatter(
        fake.api_key, fake.base_url, timeout_seconds=5, retry=ONE_TRY, piece_chars=60
    )
    stack.push_async_callback(writer.close)

    def told() -> list[str]:
        bodies: list[dict[str, Any]] = [r.body for r in fake.requests]
        return [
            "".join(p.get("text", "") for p in b.get("systemInstruction", {}).get("parts", []))
            for b in bodies
        ]

    return Writer(
        writer,
        told,
        lambda: fake.then(Step(status=500)),
        lambda: fake.then(Step(text="half an ans", finish_reason="MAX_TOKENS")),
    )


@pytest.fixture(params=[qwen, gemini], ids=["qwen", "gemini"])
async def under_test(request: pytest.FixtureRequest) -> AsyncIterator[Writer]:
    async with AsyncExitStack() as stack:
        yield request.param(stack)


async def test_the_instructions_go_as_the_system_text_and_the_answer_comes_back(
    under_test: Writer,
) -> None:
    answer = await under_test.writer.write(INSTRUCTIONS, TEXT)
    assert answer.split() == TEXT.split(), "the fakes echo the user's text"
    assert under_test.told() == [INSTRUCTIONS], "one request, told the action's instructions"


async def test_a_long_text_in_pieces_comes_back_whole_and_in_order(under_test: Writer) -> None:
    answer = await under_test.writer.write(INSTRUCTIONS, TEXT, in_pieces=True)
    assert answer.split() == TEXT.split()
    told = under_test.told()
    assert len(told) > 1 and set(told) == {INSTRUCTIONS}


async def test_a_cut_off_answer_is_refused(under_test: Writer) -> None:
    under_test.cut_off()
    with pytest.raises(FormattingFailed):
        await under_test.writer.write(INSTRUCTIONS, TEXT)


async def test_fails_only_with_the_ports_error(under_test: Writer) -> None:
    under_test.fail()
    with pytest.raises(FormattingFailed):
        await under_test.writer.write(INSTRUCTIONS, TEXT)
