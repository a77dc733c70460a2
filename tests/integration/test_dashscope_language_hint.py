"""The user's Telegram language on DashScope (issue #13), with the real dashscope SDK
against the wire fake: qwen3-asr-flash's ``language`` is an instruction, not a prior, so
the hint is never sent with the first request; it is sent as the language of the one
retry of an answer that is no transcript, and only when the user set no language."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from application.recognition import ChunkedRecognition, NotATranscript
from domain.policies import STANDARD_MP3, AudioEncoding, AudioProfile, ChunkSpan
from infrastructure.dashscope import DashScopeRecognizer
from infrastructure.retrying import RetryPolicy
from tests.fakes.dashscope_server import Answer, FakeDashScope

FAST_RETRY = RetryPolicy(attempts=3, base_delay_seconds=0.01, max_delay_seconds=0.02)
MP3 = b"\xff\xfb\x90\x64" + bytes(range(256)) * 4  # the fake never decodes it
LOOP = " ".join(["et bien"] * 100)
GOOD = "Привет, это короткая заметка."


@pytest.fixture
def fake() -> Iterator[FakeDashScope]:
    with FakeDashScope() as server:
        yield server


@pytest.fixture
async def recognizer(fake: FakeDashScope) -> AsyncIterator[DashScopeRecognizer]:
    adapter = DashScopeRecognizer(
        fake.api_key,
        fake.base_url,
        timeout_seconds=30.0,
        retry=FAST_RETRY,
        audio_format=AudioEncoding.MP3,
    )
    yield adapter
    await adapter.close()


class ReadyMp3:
    """A converter for a 5 s note that is already the MP3 the recognizer is sent."""

    async def convert(
        self, data: bytes, profile: AudioProfile, span: ChunkSpan | None = None
    ) -> bytes:
        return MP3


def chunked(recognizer: DashScopeRecognizer) -> tuple[ChunkedRecognition, bytes]:
    recognition = ChunkedRecognition(
        ReadyMp3(),  # type: ignore[arg-type]  # a short note is only converted
        recognizer,
        short_audio_seconds=10.0,
        max_chunk_seconds=150.0,
        concurrency=2,
    )
    return recognition, b"note"


async def test_the_hint_alone_is_not_sent_as_the_language(
    fake: FakeDashScope, recognizer: DashScopeRecognizer
) -> None:
    fake.queue_asr(Answer(GOOD, language="ru"))

    result = await recognizer.recognize(MP3, STANDARD_MP3, None, language_hint="ru")

    assert result.text == GOOD
    assert "language" not in fake.requests[0].parameters["asr_options"]


async def test_a_loop_is_asked_again_in_the_users_language(
    fake: FakeDashScope, recognizer: DashScopeRecognizer
) -> None:
    fake.queue_asr(Answer(LOOP, language="fr"), Answer(GOOD, language="ru"))
    recognition, audio = chunked(recognizer)

    result = await recognition.recognize(audio, 5.0, None, language_hint="ru-RU")

    assert (result.text, result.language) == (GOOD, "ru")
    sent = [r.parameters["asr_options"].get("language") for r in fake.requests]
    assert sent == [None, "ru"]


async def test_a_set_language_is_asked_once(
    fake: FakeDashScope, recognizer: DashScopeRecognizer
) -> None:
    fake.queue_asr(Answer(LOOP, language="en"), Answer(GOOD, language="ru"))
    recognition, audio = chunked(recognizer)

    with pytest.raises(NotATranscript):
        await recognition.recognize(audio, 5.0, "en", language_hint="ru")

    assert [r.parameters["asr_options"].get("language") for r in fake.requests] == ["en"]
