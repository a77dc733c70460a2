"""DashScope refusing OGG/Opus: the recognizer falls back to MP3 for the process, once.

Why this exists: OGG/Opus is sent by default on the strength of DashScope's documentation;
if the service refuses it after all (a 400 ``InvalidParameter``, DashScope's error body),
users must not pay for the wrong guess. The real SDK talks to the DashScope fake set to
refuse ``audio/ogg``; the real converter re-encodes the voice note.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from application.errors import RecognitionFailed
from domain.policies import STANDARD_OPUS, AudioEncoding
from infrastructure.audio import PyAvConverter
from infrastructure.dashscope import DashScopeRecognizer
from infrastructure.retrying import RetryPolicy
from tests.fakes.dashscope_server import INVALID_PARAMETER, FakeDashScope
from tests.media_clips import SAMPLES

FAST = RetryPolicy(attempts=2, base_delay_seconds=0.01, max_delay_seconds=0.02, budget_seconds=30)


@pytest.fixture
def dashscope() -> Iterator[FakeDashScope]:
    with FakeDashScope() as fake:
        fake.refused_media_types = {"audio/ogg"}
        yield fake


@pytest.fixture(scope="module")
def voice_note() -> bytes:
    return (SAMPLES / "en-weather.ogg").read_bytes()


def recognizer(fake: FakeDashScope, *, converter: bool = True) -> DashScopeRecognizer:
    return DashScopeRecognizer(
        fake.api_key, fake.base_url, retry=FAST, timeout_seconds=60,
        converter=PyAvConverter() if converter else None,
    )  # fmt: skip


async def test_a_refused_ogg_upload_is_sent_again_as_mp3_and_mp3_is_kept(
    dashscope: FakeDashScope, voice_note: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    asr = recognizer(dashscope)
    assert asr.encoding is AudioEncoding.OPUS
    with caplog.at_level(logging.WARNING, logger="infrastructure.dashscope.recognizer"):
        first = await asr.recognize(voice_note, STANDARD_OPUS, None)
        # a job's next chunk, prepared as OGG before the switch, goes straight as MP3
        second = await asr.recognize(voice_note, STANDARD_OPUS, None)
    await asr.close()

    assert first.text.startswith("speech of") and second.text.startswith("speech of")
    assert [r.media_type for r in dashscope.requests] == ["audio/ogg", "audio/mpeg", "audio/mpeg"]
    assert [r.status for r in dashscope.requests] == [400, 200, 200]
    assert asr.encoding is AudioEncoding.MP3, "new jobs are prepared as MP3"
    warnings = [r for r in caplog.records if "MP3 from now on" in r.getMessage()]
    assert len(warnings) == 1, "logged once"


async def test_without_a_converter_the_refusal_stands(
    dashscope: FakeDashScope, voice_note: bytes
) -> None:
    asr = recognizer(dashscope, converter=False)
    with pytest.raises(RecognitionFailed) as refused:
        await asr.recognize(voice_note, STANDARD_OPUS, None)
    await asr.close()
    assert not refused.value.transient
    assert asr.encoding is AudioEncoding.OPUS


async def test_a_request_refused_for_another_reason_keeps_opus(voice_note: bytes) -> None:
    """The MP3 copy is refused too: not a format problem, so the error stands and OGG stays."""
    with FakeDashScope() as fake:
        fake.queue_asr(INVALID_PARAMETER, INVALID_PARAMETER)
        asr = recognizer(fake)
        with pytest.raises(RecognitionFailed):
            await asr.recognize(voice_note, STANDARD_OPUS, None)
        await asr.close()
    assert [r.media_type for r in fake.requests] == ["audio/ogg", "audio/mpeg"]
    assert asr.encoding is AudioEncoding.OPUS
