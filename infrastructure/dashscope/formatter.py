"""The ``TextFormatter`` port on DashScope's qwen-turbo (text-generation, async SDK).

Why this exists: Qwen is the first LLM of the formatting chain (Gemini is the fallback).
It gets the shared prompt of ``llm_prompt`` and its answer passes the shared guards
(thinking stripped, ``finish_reason == "length"`` rejected). Long transcripts are cut at
paragraph / sentence boundaries into pieces of bounded size, formatted a few at a time and
joined in order, so no request runs into the output limit or the timeout. Every call has
a timeout and bounded retries; every failure becomes ``FormattingFailed``.
"""

from __future__ import annotations

from typing import Any

import dashscope

from application.errors import FormattingFailed
from domain.jobs import UserStyle
from infrastructure.dashscope._calls import INTL_BASE_URL, call_dashscope, close_dashscope_sessions
from infrastructure.llm.pieces import format_in_pieces
from infrastructure.llm.prompt import clean_answer, system_prompt
from infrastructure.retrying import RetryPolicy, with_retries

DEFAULT_MODEL = "qwen-turbo"
DEFAULT_RETRY = RetryPolicy(attempts=3, base_delay_seconds=1.0, budget_seconds=90.0)
# Characters per request: a few paragraphs of speech, far below qwen-turbo's output limit.
DEFAULT_PIECE_CHARS = 6000
DEFAULT_PARALLEL_PIECES = 3


class QwenFormatter:
    """Punctuation and paragraphs by qwen-turbo; raises ``FormattingFailed`` on any failure."""

    name = "qwen"

    def __init__(
        self,
        api_key: str,
        base_url: str = INTL_BASE_URL,
        model: str = DEFAULT_MODEL,
        timeout_seconds: float = 60.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        *,
        temperature: float = 0.3,
        piece_chars: int = DEFAULT_PIECE_CHARS,
        parallel_pieces: int = DEFAULT_PARALLEL_PIECES,
    ) -> None:
        if not api_key:
            raise ValueError("QwenFormatter needs an API key (DASHSCOPE_API_KEY)")
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._model = model
        self._timeout_seconds = timeout_seconds
        self._retry = retry
        self._temperature = temperature
        self._piece_chars = piece_chars
        self._parallel_pieces = max(1, parallel_pieces)

    async def format(self, text: str, style: UserStyle) -> str:
        prompt = system_prompt(style)
        return await format_in_pieces(
            text,
            self._piece_chars,
            self._parallel_pieces,
            lambda piece: self._format_piece(piece, prompt),
        )

    async def write(self, instructions: str, text: str, *, in_pieces: bool = False) -> str:
        """The ``ActionWriter`` port (an action on a transcript): the same requests, timeout,
        retries and answer guards as formatting, with the action's instructions."""
        if in_pieces:
            return await format_in_pieces(
                text,
                self._piece_chars,
                self._parallel_pieces,
                lambda piece: self._format_piece(piece, instructions),
            )
        return await self._format_piece(text, instructions)

    async def close(self) -> None:
        """Close the SDK's shared HTTP session of this event loop (at shutdown)."""
        await close_dashscope_sessions()

    async def _format_piece(self, piece: str, prompt: str) -> str:
        response = await with_retries(
            lambda: self._request(piece, prompt), self._retry, what="Qwen formatting"
        )
        return _answer_text(response)

    async def _request(self, piece: str, prompt: str) -> Any:
        messages: list[Any] = [
            {"role": "system", "content": prompt},
            {"role": "user", "content": piece},
        ]
        return await call_dashscope(
            lambda: dashscope.AioGeneration.call(
                model=self._model,
                messages=messages,
                api_key=self._api_key,
                base_address=self._base_url,
                result_format="message",
                temperature=self._temperature,
            ),
            timeout_seconds=self._timeout_seconds,
            error=FormattingFailed,
        )


def _answer_text(response: Any) -> str:
    """``output.choices[0].message.content`` through the shared answer guards."""
    try:
        choice = response.output["choices"][0]
        content = choice["message"].get("content")
        finish_reason = choice.get("finish_reason")
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise FormattingFailed(
            f"DashScope answered in an unexpected shape: {exc!r}", transient=False
        ) from exc
    if not isinstance(content, str | None):
        raise FormattingFailed("DashScope answered with non-text content", transient=False)
    return clean_answer(content, truncated=finish_reason == "length")
