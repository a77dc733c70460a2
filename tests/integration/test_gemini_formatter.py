"""GeminiFormatter with the real google-genai SDK against the local Gemini fake.

Why this exists: the request shape, timeouts, retries and error mapping are what break in
production, and only the real SDK on a real socket shows them; nothing here is mocked.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from application.errors import FormattingFailed
from domain.jobs import UserStyle
from infrastructure.gemini import GeminiFormatter
from infrastructure.llm.pieces import split_into_pieces
from infrastructure.retrying import RetryPolicy
from tests.fakes.gemini_server import GeminiFake, Step

FAST_RETRY = RetryPolicy(attempts=3, base_delay_seconds=0.01, max_delay_seconds=0.05)
STYLE = UserStyle()
MakeFormatter = Callable[..., GeminiFormatter]


@pytest.fixture
def fake() -> Iterator[GeminiFake]:
    with GeminiFake() as server:
        yield server


@pytest.fixture
async def make_formatter(fake: GeminiFake) -> AsyncIterator[MakeFormatter]:
    """Formatters on the fake, each closed after the test."""
    made: list[GeminiFormatter] = []

    def factory(**overrides: object) -> GeminiFormatter:
        options: dict[str, object] = {"timeout_seconds": 5.0, "retry": FAST_RETRY}
        options.update(overrides)
        api_key = str(options.pop("api_key", fake.api_key))
        formatter = GeminiFormatter(api_key, fake.base_url, **options)  # type: ignore[arg-type]
        made.append(formatter)
        return formatter

    yield factory
    for formatter in made:
        await formatter.close()


async def test_sends_the_text_with_the_prompt_to_the_model(
    fake: GeminiFake, make_formatter: MakeFormatter
) -> None:
    await make_formatter(model="gemini-test").format("привет как дела", STYLE)

    [request] = fake.requests
    assert request.path == "/v1beta/models/gemini-test:generateContent"
    assert request.headers["x-goog-api-key"] == fake.api_key
    assert request.user_text == "привет как дела"
    prompt = request.body["systemInstruction"]["parts"][0]["text"]
    assert "paragraphs" in prompt
    assert request.body["generationConfig"]["temperature"] == pytest.approx(0.2)


async def test_returns_the_models_text(fake: GeminiFake, make_formatter: MakeFormatter) -> None:
    fake.reply = lambda text: f"  {text.capitalize()}.\n"

    assert await make_formatter().format("hello there", STYLE) == "Hello there."


async def test_an_answer_cut_off_at_max_tokens_is_rejected(
    fake: GeminiFake, make_formatter: MakeFormatter
) -> None:
    fake.then(Step(finish_reason="MAX_TOKENS", text="Half of the"))

    with pytest.raises(FormattingFailed) as failure:
        await make_formatter().format("half of the text", STYLE)
    assert not failure.value.transient
    assert len(fake.requests) == 1


async def test_thinking_blocks_are_stripped(
    fake: GeminiFake, make_formatter: MakeFormatter
) -> None:
    fake.then(Step(text="<think>the user wants commas</think>\nYes, of course."))

    assert await make_formatter().format("yes of course", STYLE) == "Yes, of course."


async def test_throttling_is_retried(fake: GeminiFake, make_formatter: MakeFormatter) -> None:
    fake.fail(429).fail(500)

    assert await make_formatter().format("try again", STYLE) == "try again"
    assert len(fake.requests) == 3


async def test_persistent_5xx_fails_transiently_after_bounded_attempts(
    fake: GeminiFake, make_formatter: MakeFormatter
) -> None:
    fake.fail(503, times=5)

    with pytest.raises(FormattingFailed) as failure:
        await make_formatter().format("anyone there", STYLE)
    assert failure.value.transient
    assert len(fake.requests) == FAST_RETRY.attempts


async def test_a_rejected_key_fails_permanently_after_one_request(
    fake: GeminiFake, make_formatter: MakeFormatter
) -> None:
    with pytest.raises(FormattingFailed, match="API key") as failure:
        await make_formatter(api_key="wrong-key").format("hello", STYLE)
    assert not failure.value.transient
    assert len(fake.requests) == 1


async def test_a_hanging_server_times_out_within_the_bound(
    fake: GeminiFake, make_formatter: MakeFormatter
) -> None:
    fake.hang(times=2)
    formatter = make_formatter(
        timeout_seconds=0.3, retry=RetryPolicy(attempts=2, base_delay_seconds=0.01)
    )

    started = time.monotonic()
    with pytest.raises(FormattingFailed, match="did not answer") as failure:
        await formatter.format("hello", STYLE)
    assert failure.value.transient
    assert len(fake.requests) == 2
    assert time.monotonic() - started < 15.0  # bounded, generously: a loaded machine is slow


async def test_long_text_is_formatted_in_parallel_pieces_joined_in_order(
    fake: GeminiFake, make_formatter: MakeFormatter
) -> None:
    paragraphs = [f"paragraph {n} " + "word " * 30 for n in range(8)]
    text = "\n\n".join(paragraphs)
    pieces = split_into_pieces(text, 400)
    fake.reply = str.upper
    fake.delay_seconds = 0.2
    formatter = make_formatter(piece_chars=400, parallel_pieces=3)

    formatted = await formatter.format(text, STYLE)

    assert len(pieces) > 3
    assert formatted == "\n\n".join(piece.upper() for piece in pieces)
    assert sorted(r.user_text for r in fake.requests) == sorted(pieces)
    assert fake.max_in_flight == 3


async def test_one_failed_piece_fails_the_whole_text(
    fake: GeminiFake, make_formatter: MakeFormatter
) -> None:
    fake.fail(400)
    text = "\n\n".join(f"paragraph {n} " + "word " * 30 for n in range(4))

    with pytest.raises(FormattingFailed, match="invalid") as failure:
        await make_formatter(piece_chars=400).format(text, STYLE)
    assert not failure.value.transient
