"""The ``TextFormatter`` port on Google Gemini (google-genai SDK, async).

Why this exists: Gemini is the second LLM of the formatting chain, used when Qwen fails.
One ``genai.Client`` lives as long as the formatter (a temporary client can be collected
mid-call) and must be closed with ``close()``. Every call has a timeout and bounded retries
of our own (the SDK's retries are switched off so the two never multiply); every SDK error
becomes ``FormattingFailed``. Long transcripts are formatted in bounded pieces, a few at a
time, so no single request runs into the model's output limit or the timeout.
"""

from __future__ import annotations

import asyncio

from google import genai
from google.genai import types

from application.errors import FormattingFailed
from domain.jobs import UserStyle
from infrastructure.gemini._errors import to_formatting_failed
from infrastructure.llm.pieces import format_in_pieces
from infrastructure.llm.prompt import clean_answer, system_prompt
from infrastructure.retrying import RetryPolicy, with_retries

DEFAULT_MODEL = "gemini-2.5-flash"
# A long formatting answer was measured at about 47 s; leave room above it.
DEFAULT_TIMEOUT_SECONDS = 90.0
DEFAULT_RETRY = RetryPolicy(attempts=3, base_delay_seconds=1.0, budget_seconds=120.0)
# Characters per request: far below the model's output limit, a few paragraphs of speech.
DEFAULT_PIECE_CHARS = 6000
DEFAULT_PARALLEL_PIECES = 3


class GeminiFormatter:
    """Punctuation and paragraphs by Gemini; raises ``FormattingFailed`` on any failure."""

    name = "gemini"

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        model: str = DEFAULT_MODEL,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        retry: RetryPolicy = DEFAULT_RETRY,
        *,
        api_version: str = "v1beta",
        temperature: float = 0.2,
        piece_chars: int = DEFAULT_PIECE_CHARS,
        parallel_pieces: int = DEFAULT_PARALLEL_PIECES,
        thinking_budget: int | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("GeminiFormatter needs an API key")
        self._model = model
        self._timeout_seconds = timeout_seconds
        self._retry = retry
        self._temperature = temperature
        self._piece_chars = piece_chars
        self._parallel_pieces = max(1, parallel_pieces)
        self._thinking_budget = thinking_budget
        self._client = genai.Client(
            api_key=api_key,
            http_options=types.HttpOptions(
                base_url=base_url,
                api_version=api_version,
                timeout=int(timeout_seconds * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),
            ),
        )

    async def format(self, text: str, style: UserStyle) -> str:
        return await format_in_pieces(
            text,
            self._piece_chars,
            self._parallel_pieces,
            lambda piece: self._format_piece(piece, style),
        )

    async def write(self, instructions: str, text: str, *, in_pieces: bool = False) -> str:
        """The ``ActionWriter`` port (an action on a transcript): the same requests, timeout,
        retries and answer guards as formatting, with the action's instructions."""
        if in_pieces:
            return await format_in_pieces(
                text,
                self._piece_chars,
                self._parallel_pieces,
                lambda piece: self._write_piece(piece, instructions),
            )
        return await self._write_piece(text, instructions)

    async def close(self) -> None:
        """Close the SDK's HTTP sessions; the formatter cannot be used afterwards."""
        await self._client.aio.aclose()

    async def _format_piece(self, text: str, style: UserStyle) -> str:
        return await with_retries(
            lambda: self._request(text, style), self._retry, what="Gemini formatting"
        )

    async def _write_piece(self, text: str, instructions: str) -> str:
        return await with_retries(
            lambda: self._ask(text, instructions), self._retry, what="Gemini action"
        )

    async def _request(self, text: str, style: UserStyle) -> str:
        return await self._ask(text, system_prompt(style))

    async def _ask(self, text: str, instructions: str) -> str:
        config = types.GenerateContentConfig(
            system_instruction=instructions,
            temperature=self._temperature,
            thinking_config=(
                None
                if self._thinking_budget is None
                else types.ThinkingConfig(thinking_budget=self._thinking_budget)
            ),
        )
        try:
            # The SDK's own timeout should fire first; this one also bounds its internals.
            async with asyncio.timeout(self._timeout_seconds + 1.0):
                response = await self._client.aio.models.generate_content(
                    model=self._model, contents=text, config=config
                )
        except Exception as error:
            raise to_formatting_failed(error, self._timeout_seconds) from error
        return _answer_text(response)


def _answer_text(response: types.GenerateContentResponse) -> str:
    if not response.candidates:
        feedback = response.prompt_feedback
        reason = feedback.block_reason if feedback else None
        raise FormattingFailed(f"Gemini returned no answer (blocked: {reason})", transient=False)
    truncated = response.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    # ``text`` joins the text parts and leaves out thought parts.
    return clean_answer(response.text, truncated=truncated)
