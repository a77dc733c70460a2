"""The application's FormattingChain with the real adapters: Qwen, then Gemini, then local.

Why this exists: the fallback order only matters if each adapter's failures really reach
the chain as ``FormattingFailed`` (or as output its length guard rejects). Both LLMs run
through their real SDKs against local fakes of their wire protocols; nothing is mocked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from application.formatting import FormattingChain
from domain.jobs import UserStyle
from infrastructure.dashscope import QwenFormatter
from infrastructure.gemini import GeminiFormatter
from infrastructure.local.formatter import ParagraphFormatter
from infrastructure.retrying import RetryPolicy
from tests.fakes.dashscope_server import SERVER_ERROR, Answer, FakeDashScope
from tests.fakes.gemini_server import GeminiFake

RETRY = RetryPolicy(attempts=2, base_delay_seconds=0.01, max_delay_seconds=0.02)
WORD_THRESHOLD = 20
STYLE = UserStyle()
LONG_TEXT = " ".join(f"this is spoken sentence number {n} of the voice note." for n in range(6))
SHORT_TEXT = "just a few words here"


@pytest.fixture
def qwen_fake() -> Iterator[FakeDashScope]:
    with FakeDashScope() as fake:
        fake.reply = lambda request: f"Qwen: {request.message('user')}"
        yield fake


@pytest.fixture
def gemini_fake() -> Iterator[GeminiFake]:
    with GeminiFake(reply=lambda text: f"Gemini: {text}") as fake:
        yield fake


@pytest.fixture
async def chain(
    qwen_fake: FakeDashScope, gemini_fake: GeminiFake
) -> AsyncIterator[FormattingChain]:
    qwen = QwenFormatter(qwen_fake.api_key, qwen_fake.base_url, timeout_seconds=5, retry=RETRY)
    gemini = GeminiFormatter(
        gemini_fake.api_key, gemini_fake.base_url, timeout_seconds=5, retry=RETRY
    )
    yield FormattingChain([qwen, gemini], ParagraphFormatter(), WORD_THRESHOLD)
    await qwen.close()
    await gemini.close()


async def local_result(text: str) -> str:
    return await ParagraphFormatter().format(text, STYLE)


async def test_qwens_answer_is_used_when_it_works(
    chain: FormattingChain, gemini_fake: GeminiFake
) -> None:
    result = await chain.format(LONG_TEXT, STYLE)

    assert (result.formatter, result.text) == ("qwen", f"Qwen: {LONG_TEXT}")
    assert gemini_fake.requests == []


async def test_qwen_failing_with_5xx_falls_back_to_gemini(
    chain: FormattingChain, qwen_fake: FakeDashScope
) -> None:
    qwen_fake.queue_llm(*[SERVER_ERROR] * RETRY.attempts)

    result = await chain.format(LONG_TEXT, STYLE)

    assert (result.formatter, result.text) == ("gemini", f"Gemini: {LONG_TEXT}")
    assert len(qwen_fake.requests) == RETRY.attempts


async def test_both_llms_down_falls_back_to_the_local_formatter(
    chain: FormattingChain, qwen_fake: FakeDashScope, gemini_fake: GeminiFake
) -> None:
    qwen_fake.queue_llm(*[SERVER_ERROR] * RETRY.attempts)
    gemini_fake.fail(503, times=RETRY.attempts)

    result = await chain.format(LONG_TEXT, STYLE)

    assert (result.formatter, result.text) == ("local-paragraphs", await local_result(LONG_TEXT))
    assert len(gemini_fake.requests) == RETRY.attempts


async def test_qwen_cut_off_at_the_length_limit_falls_back_to_gemini(
    chain: FormattingChain, qwen_fake: FakeDashScope
) -> None:
    qwen_fake.queue_llm(Answer(text="This is spoken sentence number", finish_reason="length"))

    result = await chain.format(LONG_TEXT, STYLE)

    assert result.formatter == "gemini"
    assert len(qwen_fake.requests) == 1  # a cut-off answer is not retried


async def test_qwen_dropping_most_of_the_text_falls_back_to_gemini(
    chain: FormattingChain, qwen_fake: FakeDashScope
) -> None:
    qwen_fake.queue_llm(Answer(text="A voice note about sentences."))

    result = await chain.format(LONG_TEXT, STYLE)

    assert result.formatter == "gemini"


async def test_short_text_skips_both_llms(
    chain: FormattingChain, qwen_fake: FakeDashScope, gemini_fake: GeminiFake
) -> None:
    result = await chain.format(SHORT_TEXT, STYLE)

    assert (result.formatter, result.text) == ("local-paragraphs", await local_result(SHORT_TEXT))
    assert qwen_fake.requests == []
    assert gemini_fake.requests == []
