"""The ``SpeechRecognizer`` port on DashScope's qwen3-asr-flash (REST, async SDK).

Why this exists: cloud recognition for the 52 languages of qwen3-asr-flash with no local
model. The audio travels inline as a base64 data URI (a file path would make the SDK
upload it to OSS first): ``data:audio/ogg`` for OGG/Opus, the default, which a Telegram
voice note usually already is (its packets are copied, not re-encoded), or
``data:audio/mpeg`` for MP3, the reference bot's format (``ASR_AUDIO_FORMAT=mp3``). One
request takes at most 5 minutes and 10 MB of base64, so ``max_chunk_seconds`` is 280 s:
at 32-48 kbit/s that is 1.1-1.7 MB of audio, 1.5-2.2 MB as base64. Every call is bounded
by a timeout and retried while the error is transient; the base URL is passed per call,
so no SDK global is touched.

A wrong guess about Opus must never fail users: if DashScope refuses an OGG/Opus upload
(400) and the same audio as MP3 is taken, the recognizer sends MP3 from then on, for the
rest of the process (``encoding`` says so, so new jobs are prepared as MP3 directly), and
logs that once. It needs the converter for that; without one the refusal stands.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import dashscope

from application.errors import PortError, RecognitionFailed
from application.ports import AudioConverter, Recognition
from domain.policies import SHORT_MP3, SHORT_OPUS, STANDARD_MP3, AudioEncoding, AudioProfile
from domain.transcript import Segment
from infrastructure.dashscope._calls import (
    INTL_BASE_URL,
    call_dashscope,
    close_dashscope_sessions,
    refused_input,
)
from infrastructure.retrying import RetryPolicy, with_retries

log = logging.getLogger(__name__)

DEFAULT_MODEL = "qwen3-asr-flash"
# A 280 s chunk is usually recognized in seconds; a minute means the service is stuck.
DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_RETRY = RetryPolicy(attempts=3, base_delay_seconds=1.0, budget_seconds=150.0)
MAX_CHUNK_SECONDS = 280.0
MAX_REQUEST_BASE64_BYTES = 10 * 1024 * 1024
_DATA_URI_PREFIXES = {
    AudioEncoding.OPUS: "data:audio/ogg;base64,",
    AudioEncoding.MP3: "data:audio/mpeg;base64,",
}


class DashScopeRecognizer:
    """qwen3-asr-flash with inverse text normalization; the language is a hint if known."""

    def __init__(
        self,
        api_key: str,
        base_url: str = INTL_BASE_URL,
        model: str = DEFAULT_MODEL,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        retry: RetryPolicy = DEFAULT_RETRY,
        *,
        audio_format: AudioEncoding = AudioEncoding.OPUS,
        converter: AudioConverter | None = None,
    ) -> None:
        """``converter`` re-encodes OGG/Opus as MP3 if DashScope refuses OGG/Opus."""
        if not api_key:
            raise ValueError("DashScopeRecognizer needs an API key (DASHSCOPE_API_KEY)")
        if audio_format not in _DATA_URI_PREFIXES:
            raise ValueError(f"qwen3-asr-flash is sent opus or mp3 here, not {audio_format}")
        self._audio_format = audio_format
        self._converter = converter
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._model = model
        self._timeout_seconds = timeout_seconds
        self._retry = retry

    @property
    def encoding(self) -> AudioEncoding:
        return self._audio_format

    @property
    def max_chunk_seconds(self) -> float | None:
        return MAX_CHUNK_SECONDS

    @property
    def gives_times(self) -> bool:
        return False  # qwen3-asr-flash answers text only

    async def recognize(
        self,
        audio: bytes,
        profile: AudioProfile,
        language: str | None,
        language_hint: str | None = None,
    ) -> Recognition:
        """Text of one OGG/Opus or MP3 clip; ``Recognition("")`` for no speech. Raises
        RecognitionFailed.

        ``language`` is sent as ``asr_options.language``. ``language_hint`` (the user's
        Telegram language) is not: qwen3-asr-flash's option is an instruction, not a
        prior, so sending it would force every note of a user whose Telegram is in one
        language into that language. It reaches the service only as ``language`` on the
        one retry of an answer that is no transcript (``application.recognition``)."""
        if profile.encoding not in _DATA_URI_PREFIXES:
            raise RecognitionFailed(
                f"qwen3-asr-flash is sent OGG/Opus or MP3 here, got {profile.encoding}",
                transient=False,
            )
        if not audio:
            return Recognition("")
        options: dict[str, Any] = {"enable_itn": True}
        code = _language_code(language)
        if code is not None:
            options["language"] = code
        opus = profile.encoding is AudioEncoding.OPUS
        if opus and self._audio_format is AudioEncoding.MP3 and self._converter is not None:
            # Prepared before this process fell back to MP3 (a job's other chunks).
            return await self._send(await self._as_mp3(audio, profile), AudioEncoding.MP3, options)
        try:
            return await self._send(audio, profile.encoding, options)
        except RecognitionFailed as refusal:
            if not (opus and refused_input(refusal) and self._converter is not None):
                raise
            recognition = await self._send(
                await self._as_mp3(audio, profile), AudioEncoding.MP3, options
            )
            self._fall_back_to_mp3(refusal)
            return recognition

    async def _as_mp3(self, audio: bytes, profile: AudioProfile) -> bytes:
        """The OGG/Opus clip as MP3 (the reference bot's format), as light as it came."""
        assert self._converter is not None
        lighter = profile.bitrate_kbps is not None and profile.bitrate_kbps <= (
            SHORT_OPUS.bitrate_kbps or 0
        )
        try:
            return await self._converter.convert(audio, SHORT_MP3 if lighter else STANDARD_MP3)
        except PortError as error:
            raise RecognitionFailed(
                f"the audio could not be re-encoded as MP3: {error}", transient=False
            ) from error

    def _fall_back_to_mp3(self, refusal: RecognitionFailed) -> None:
        if self._audio_format is AudioEncoding.MP3:
            return
        self._audio_format = AudioEncoding.MP3
        log.warning(
            "DashScope refused OGG/Opus audio but took it as MP3 (%s): this process sends "
            "MP3 from now on (ASR_AUDIO_FORMAT=mp3 makes that the start)",
            refusal,
        )

    async def _send(
        self, audio: bytes, encoding: AudioEncoding, options: dict[str, Any]
    ) -> Recognition:
        """One recognition request of audio in ``encoding``, with retries."""
        uri = _DATA_URI_PREFIXES[encoding] + base64.b64encode(audio).decode("ascii")
        if len(uri) > MAX_REQUEST_BASE64_BYTES:
            raise RecognitionFailed(
                f"{len(audio)} bytes of audio exceed DashScope's 10 MB request limit",
                transient=False,
            )
        messages = [
            {"role": "system", "content": [{"text": ""}]},
            {"role": "user", "content": [{"audio": uri}]},
        ]

        async def attempt() -> Any:
            return await call_dashscope(
                lambda: dashscope.AioMultiModalConversation.call(
                    model=self._model,
                    messages=messages,
                    api_key=self._api_key,
                    base_address=self._base_url,
                    result_format="message",
                    asr_options=options,
                ),
                timeout_seconds=self._timeout_seconds,
                error=RecognitionFailed,
            )

        response = await with_retries(attempt, self._retry, what="DashScope ASR")
        return _recognition(response)

    async def close(self) -> None:
        """Close the SDK's shared HTTP session of this event loop (at shutdown)."""
        await close_dashscope_sessions()


def _recognition(response: Any) -> Recognition:
    """``output.choices[0].message``: text parts and the detected language."""
    try:
        message = response.output["choices"][0]["message"]
        parts = message.get("content") or []
        text = "".join(str(part.get("text") or "") for part in parts).strip()
        notes = message.get("annotations") or []
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise RecognitionFailed(
            f"DashScope answered in an unexpected shape: {exc!r}", transient=False
        ) from exc
    if not text:
        return Recognition("")
    language = next(
        (str(n["language"]) for n in notes if isinstance(n, dict) and n.get("language")), None
    )
    # qwen3-asr-flash gives no times: the text is one untimed segment, which the caller
    # places over the span of audio it sent (``domain.transcript.placed``).
    return Recognition(text, language, (Segment(None, None, text),))


def _language_code(language: str | None) -> str | None:
    """``"ru"``, ``"en-US"``, ``"pt_BR"`` -> the code qwen3-asr-flash takes; else auto-detect."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code.isalpha() and 2 <= len(code) <= 3 else None
