"""The ``SpeechRecognizer`` port on a local Whisper model (faster-whisper / CTranslate2).

Why this exists: the bot must turn speech into text with no cloud and no internet. One
model is loaded lazily, once per process, and shared; recognitions run one at a time in
a worker thread, because a single int8 model already keeps the machine's two cores busy.
It wants 16 kHz mono 16-bit PCM (``PCM_16K``), so the converter does all the decoding and
no second decoder runs here (MP3 is accepted too and decoded by faster-whisper). With no
language set (the default) the language is detected from the same encoder pass that
decoding uses (``single_encode``): a note under 30 s costs one encoder pass, not two.

Whisper's segments are kept with their times (``transcribe``: a ``domain.transcript``
``Transcript``, times in seconds from the start of the audio given, VAD's cuts already
mapped back by faster-whisper), so that subtitles and timestamped text can be made from
them; the plain text is the transcript's text, and ``recognize`` answers both, with the
segments kept within the audio's duration.

Decoding is faster-whisper's sequential loop with timestamps, not its batched pipeline:
batching decoded 3 minutes 1.5-1.8x faster here, but without timestamp tokens Whisper base
may stop after the first sentence of a dense 30 s chunk and silently drop the rest
(measured: 2/3 of a Russian note lost with VAD's 2 s silences; English WER 5-7 % instead of
4-5 % with its default chunking), while the sequential loop resumes at the last timestamp.
"""

from __future__ import annotations

import asyncio
import io
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import attrs
import numpy as np
import numpy.typing as npt

from application.errors import RecognitionFailed
from application.ports import Recognition
from domain.policies import PCM_16K, AudioEncoding, AudioProfile
from domain.transcript import Segment, Transcript, placed
from infrastructure.whisper.model_files import PACKAGED_MODEL_NAME, resolve_model

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

PCM_RATE = 16_000
# Whisper windows long audio itself, so this only bounds memory (10 min of PCM is 19 MB,
# 38 MB as float32) and lets the caller report progress per chunk. Measured on 4 min of
# speech: 150 s chunks cut at quiet points cost +2 % CPU and the same WER as one request.
MAX_CHUNK_SECONDS = 600.0
# Guards against Whisper's loops (issue #13; figures in the commit adding them): each
# window is decoded on its own (a wrong window must not prime the next), greedily with no
# temperature fallback (the compression-ratio retry it enables made a 30 s note that
# really repeats a sentence fall back to sampled garbage: WER 0.04 -> 1.0, 20x slower),
# and no 20-token sequence is emitted twice in one window, which cuts a loop short (with
# 10: a noisy Russian note decoded as French, "très" x500 -> x10, 4x less decoding) while
# a sentence said three times in 30 s costs little (English WER 3.7 -> 4.9 %; 6.2 % with
# 10). Whatever loop remains is for the degenerate-result check (domain).
DECODING = {
    "temperature": 0.0,
    "condition_on_previous_text": False,
    "no_repeat_ngram_size": 20,
}

# One model per process, whichever instance asks first; and one recognition at a time,
# since a single model already keeps both cores busy.
_models: dict[tuple[str, str, str, int], WhisperModel] = {}
_load_lock = threading.Lock()
_warmed: set[int] = set()  # ids of the models in ``_models`` that have recognized once
_run_lock = threading.Lock()
# Recognitions queue for this one thread rather than wait on the lock inside asyncio's
# default executor: waiting there held its few threads (6 on 2 cores) from the converter's
# work while up to WORKER_CONCURRENCY x ASR_CONCURRENCY chunks queued for the model, and
# each thread that ran the model kept a malloc arena of its own (peak RSS at 3 min 500-610
# MB across runs, 465-485 MB with one thread, as with MALLOC_ARENA_MAX=2).
_model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")


@attrs.frozen
class TimedRecognition:
    """What Whisper heard, with its segments' times; empty transcript = no speech."""

    transcript: Transcript
    language: str | None = None

    @property
    def recognition(self) -> Recognition:
        """The port's answer: the plain text, its segments, and the language only when
        something was heard (as ``recognize`` has always answered)."""
        text = self.transcript.text
        if not text:
            return Recognition("")
        return Recognition(text, self.language, self.transcript.segments)


def default_models_dir() -> Path:
    """Where the packaged model is assembled when no directory is configured."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "voicescribe" / "models"


class WhisperRecognizer:
    """Local Whisper: ``"base"`` is the packaged offline model; a directory or hub name
    (``WHISPER_MODEL``) is handed to faster-whisper as is."""

    def __init__(
        self,
        model_dir_or_name: str | os.PathLike[str] = PACKAGED_MODEL_NAME,
        cpu_threads: int = 2,
        compute_type: str = "int8",
        beam_size: int = 1,
        *,
        models_dir: Path | None = None,
        vad_filter: bool = True,
    ) -> None:
        self._model_setting = os.fspath(model_dir_or_name)
        self._models_dir = models_dir
        self._cpu_threads = cpu_threads
        self._compute_type = compute_type
        self._beam_size = beam_size
        self._vad_filter = vad_filter
        self._model: WhisperModel | None = None

    @property
    def encoding(self) -> AudioEncoding:
        return AudioEncoding.PCM_S16LE

    @property
    def max_chunk_seconds(self) -> float | None:
        return MAX_CHUNK_SECONDS

    @property
    def gives_times(self) -> bool:
        return True  # its segments, with their times

    async def warm_up(self) -> None:
        """Assemble and load the model, and recognize 1 s of silence once, now rather than
        on the first voice note.

        The load takes 0.4-0.8 s; the first recognition of a process also pays one-time
        setup in CTranslate2 and ONNX Runtime (measured ~0.1 s, on a 10 s note 1.07 s instead
        of 0.99 s); the silence costs 0.6 s here, once per process.
        """
        await asyncio.get_running_loop().run_in_executor(_model_thread, self._warm_up)

    def _warm_up(self) -> None:
        model = self.load()
        if id(model) in _warmed:
            return  # this process has run this model already
        self.recognize_blocking(bytes(2 * PCM_RATE), PCM_16K, None)  # detect + encode + decode
        _warmed.add(id(model))

    async def recognize(
        self,
        audio: bytes,
        profile: AudioProfile,
        language: str | None,
        language_hint: str | None = None,
    ) -> Recognition:
        """Text of 16 kHz mono s16le PCM (or MP3). Raises RecognitionFailed.

        ``language`` (the user's setting) is decoded in as given; with none, the language
        is detected, and ``language_hint`` (the user's Telegram language) decides when
        detection is unsure (``language_prior``)."""
        return (await self.transcribe(audio, profile, language, language_hint)).recognition

    async def transcribe(
        self,
        audio: bytes,
        profile: AudioProfile,
        language: str | None,
        language_hint: str | None = None,
    ) -> TimedRecognition:
        """Whisper's segments of 16 kHz mono s16le PCM (or MP3), timed from the start of
        ``audio``. Raises RecognitionFailed."""
        return await asyncio.get_running_loop().run_in_executor(
            _model_thread, self.transcribe_blocking, audio, profile, language, language_hint
        )

    def load(self) -> WhisperModel:
        """The shared model, loaded on first use (thread-safe). Raises RecognitionFailed."""
        if self._model is None:
            models_dir = self._models_dir or default_models_dir()
            key = (self._model_setting, str(models_dir), self._compute_type, self._cpu_threads)
            with _load_lock:
                if key not in _models:
                    _models[key] = self._load_model(models_dir)
                self._model = _models[key]
        return self._model

    def recognize_blocking(
        self,
        audio: bytes,
        profile: AudioProfile,
        language: str | None,
        language_hint: str | None = None,
    ) -> Recognition:
        return self.transcribe_blocking(audio, profile, language, language_hint).recognition

    def transcribe_blocking(
        self,
        audio: bytes,
        profile: AudioProfile,
        language: str | None,
        language_hint: str | None = None,
    ) -> TimedRecognition:
        samples = _audio_input(audio, profile)
        if isinstance(samples, np.ndarray) and samples.size == 0:
            return TimedRecognition(Transcript())
        model = self.load()
        from infrastructure.whisper.single_encode import SingleEncodeWhisperModel  # loaded now

        forced = _language_hint(language, model.supported_languages)
        hint = None if forced else _language_hint(language_hint, model.supported_languages)
        options = {"beam_size": self._beam_size, "vad_filter": self._vad_filter, **DECODING}
        with _run_lock:
            try:
                if hint is not None and isinstance(model, SingleEncodeWhisperModel):
                    segments, info = model.transcribe_with_hint(samples, hint, **options)
                else:
                    segments, info = model.transcribe(samples, language=forced, **options)
                heard = Transcript(tuple(_segment(s) for s in segments if s.text.strip()))
            except Exception as exc:
                raise RecognitionFailed(
                    f"speech recognition failed: {exc}", transient=False
                ) from exc
        if not heard.text:
            return TimedRecognition(Transcript())
        return TimedRecognition(_within(heard, info.duration), info.language)

    def _load_model(self, models_dir: Path) -> WhisperModel:
        try:
            location = self._model_setting
            if location.strip() in ("", PACKAGED_MODEL_NAME):
                location = resolve_model(location, models_dir)
            local = Path(location).is_dir()
            if local:
                os.environ["HF_HUB_OFFLINE"] = "1"  # read when huggingface_hub is imported
            from infrastructure.whisper.single_encode import SingleEncodeWhisperModel

            model = SingleEncodeWhisperModel(
                location,
                device="cpu",
                compute_type=self._compute_type,
                cpu_threads=self._cpu_threads,
                local_files_only=local,
            )
            if self._vad_filter:
                from faster_whisper.vad import get_vad_model

                get_vad_model()  # loaded once per process (cached); ~40 ms otherwise on note one
            return model
        except RecognitionFailed:
            raise
        except Exception as exc:
            raise RecognitionFailed(
                f"cannot load the speech model {self._model_setting!r}: {exc}", transient=False
            ) from exc


def _segment(segment: Any) -> Segment:
    """faster-whisper's segment as the domain's: text trimmed, times made valid (never
    negative, never ending before they start) rather than failing a recognition."""
    start = _seconds(segment.start)
    return Segment(start, max(start, _seconds(segment.end)), segment.text.strip())


def _within(heard: Transcript, duration: Any) -> Transcript:
    """The segments kept inside the audio: Whisper's last timestamp may fall a little past
    its end (its windows are 30 s; the timestamps step by 20 ms)."""
    seconds = _seconds(duration)
    return placed(heard, 0.0, seconds) if seconds > 0 else heard


def _seconds(value: Any) -> float:
    seconds = float(value)
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def _audio_input(audio: bytes, profile: AudioProfile) -> npt.NDArray[np.float32] | BinaryIO:
    """float32 samples in [-1, 1) for PCM; a file object faster-whisper decodes otherwise."""
    if profile.encoding is not AudioEncoding.PCM_S16LE:
        return io.BytesIO(audio)
    if profile.sample_rate != PCM_RATE or profile.channels != 1:
        raise RecognitionFailed(
            f"Whisper needs mono {PCM_RATE} Hz PCM, got {profile.channels} channel(s) "
            f"at {profile.sample_rate} Hz",
            transient=False,
        )
    pcm = np.frombuffer(audio, dtype="<i2", count=len(audio) // 2)
    samples = np.empty(len(pcm), dtype=np.float32)
    np.multiply(pcm, 1.0 / 32768.0, out=samples, dtype=np.float32)  # no temporary array
    return samples


def _language_hint(language: str | None, supported: list[str]) -> str | None:
    """``"ru"``, ``"en-US"``, ``"pt_BR"`` -> the Whisper code; unknown -> auto-detect."""
    if not language:
        return None
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return code if code in supported else None
