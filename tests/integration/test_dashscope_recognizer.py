"""DashScopeRecognizer with the real dashscope SDK against a local fake of the REST API.

What goes over the wire (model, ITN, language, the MP3 as a data URI, the key), what comes
back (text, detected language, no speech), and how each failure maps onto
``RecognitionFailed``: throttling and 5xx retried within bounds, a bad key or request
refused at once, a server that never answers cut off by the timeout.
"""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from application.errors import RecognitionFailed
from domain.policies import PCM_16K, STANDARD_MP3
from infrastructure.dashscope import DashScopeRecognizer
from infrastructure.retrying import NO_RETRY, RetryPolicy
from tests.fakes.dashscope_server import (
    HANG,
    INVALID_KEY,
    INVALID_PARAMETER,
    SERVER_ERROR,
    THROTTLED,
    Answer,
    Failure,
    FakeDashScope,
)

FAST_RETRY = RetryPolicy(attempts=3, base_delay_seconds=0.01, max_delay_seconds=0.02)
MP3 = b"\xff\xfb\x90\x64" + bytes(range(256)) * 4  # the fake never decodes it


@pytest.fixture
def fake() -> Iterator[FakeDashScope]:
    with FakeDashScope() as server:
        yield server


@pytest.fixture
async def recognizer(fake: FakeDashScope) -> AsyncIterator[DashScopeRecognizer]:
    adapter = DashScopeRecognizer(
        fake.api_key, fake.base_url, timeout_seconds=2.0, retry=FAST_RETRY
    )
    yield adapter
    await adapter.close()


async def test_request_on_the_wire(fake: FakeDashScope, recognizer: DashScopeRecognizer) -> None:
    fake.queue_asr(Answer("Hello there.", language="en"))

    result = await recognizer.recognize(MP3, STANDARD_MP3, None)

    assert (result.text, result.language) == ("Hello there.", "en")
    [request] = fake.requests
    assert request.headers["authorization"] == f"Bearer {fake.api_key}"
    assert request.body["model"] == "qwen3-asr-flash"
    assert request.parameters == {"asr_options": {"enable_itn": True}, "result_format": "message"}
    assert request.message("system") == [{"text": ""}]
    assert request.audio_uri == "data:audio/mpeg;base64," + base64.b64encode(MP3).decode()
    assert recognizer.max_chunk_seconds == 280.0


@pytest.mark.parametrize(
    ("language", "sent"), [("ru", "ru"), ("en-US", "en"), ("pt_BR", "pt"), ("auto", None)]
)
async def test_language_hint_is_passed_through(
    fake: FakeDashScope, recognizer: DashScopeRecognizer, language: str, sent: str | None
) -> None:
    await recognizer.recognize(MP3, STANDARD_MP3, language)

    assert fake.requests[0].parameters["asr_options"].get("language") == sent
    assert fake.requests[0].parameters["asr_options"]["enable_itn"] is True


async def test_empty_transcript_means_no_speech(
    fake: FakeDashScope, recognizer: DashScopeRecognizer
) -> None:
    fake.queue_asr(Answer("  ", language="en"))

    result = await recognizer.recognize(MP3, STANDARD_MP3, None)

    assert (result.text, result.language) == ("", None)


async def test_throttling_is_retried_then_succeeds(
    fake: FakeDashScope, recognizer: DashScopeRecognizer
) -> None:
    fake.queue_asr(THROTTLED, THROTTLED, Answer("finally"))

    assert (await recognizer.recognize(MP3, STANDARD_MP3, None)).text == "finally"
    assert [r.status for r in fake.requests] == [429, 429, 200]


async def test_server_retry_after_reaches_the_retry_loop(fake: FakeDashScope) -> None:
    fake.queue_asr(Failure(429, "Throttling.RateQuota", "slow down", retry_after=7))
    adapter = DashScopeRecognizer(fake.api_key, fake.base_url, retry=NO_RETRY)

    with pytest.raises(RecognitionFailed) as caught:
        await adapter.recognize(MP3, STANDARD_MP3, None)
    await adapter.close()

    assert caught.value.transient
    assert caught.value.retry_after == 7.0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("refusal", "reason"),
    [
        (INVALID_KEY, "DashScope rejected the API key"),
        (INVALID_PARAMETER, "rejected the request as invalid"),
        (Failure(403, "AccessDenied", "Access denied."), "refused access"),
    ],
)
async def test_refusals_fail_at_once(
    fake: FakeDashScope, recognizer: DashScopeRecognizer, refusal: Failure, reason: str
) -> None:
    fake.queue_asr(refusal)

    with pytest.raises(RecognitionFailed, match=reason) as caught:
        await recognizer.recognize(MP3, STANDARD_MP3, None)

    assert not caught.value.transient
    assert len(fake.requests) == 1


async def test_wrong_key_is_refused_by_the_server(fake: FakeDashScope) -> None:
    adapter = DashScopeRecognizer("not-the-key", fake.base_url, retry=FAST_RETRY)

    with pytest.raises(RecognitionFailed, match="InvalidApiKey") as caught:
        await adapter.recognize(MP3, STANDARD_MP3, None)
    await adapter.close()

    assert not caught.value.transient
    assert len(fake.requests) == 1


async def test_server_errors_exhaust_bounded_retries(
    fake: FakeDashScope, recognizer: DashScopeRecognizer
) -> None:
    fake.queue_asr(*[SERVER_ERROR] * 5)

    with pytest.raises(RecognitionFailed, match="500") as caught:
        await recognizer.recognize(MP3, STANDARD_MP3, None)

    assert caught.value.transient
    assert len(fake.requests) == FAST_RETRY.attempts


async def test_hanging_server_times_out_as_transient(fake: FakeDashScope) -> None:
    fake.queue_asr(HANG, HANG)
    retry = RetryPolicy(attempts=2, base_delay_seconds=0.01, max_delay_seconds=0.01)
    adapter = DashScopeRecognizer(fake.api_key, fake.base_url, timeout_seconds=0.3, retry=retry)
    started = time.monotonic()

    with pytest.raises(RecognitionFailed, match=r"within 0\.3 s") as caught:
        await adapter.recognize(MP3, STANDARD_MP3, None)
    elapsed = time.monotonic() - started
    await adapter.close()

    assert caught.value.transient
    assert 0.6 <= elapsed < 10.0  # bounded, generously: a loaded machine is slow
    assert len(fake.requests) == 2
    assert all(r.answered_at is None for r in fake.requests)


async def test_unreachable_server_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    adapter = DashScopeRecognizer("key", f"http://127.0.0.1:{port}/api/v1", retry=NO_RETRY)

    with pytest.raises(RecognitionFailed, match="could not reach DashScope") as caught:
        await adapter.recognize(MP3, STANDARD_MP3, None)
    await adapter.close()

    assert caught.value.transient


async def test_non_mp3_audio_is_refused_without_a_request(
    fake: FakeDashScope, recognizer: DashScopeRecognizer
) -> None:
    with pytest.raises(RecognitionFailed) as caught:
        await recognizer.recognize(b"\x00\x00" * 100, PCM_16K, None)

    assert not caught.value.transient
    assert fake.requests == []
