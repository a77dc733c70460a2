"""faster-whisper's ``WhisperModel``, encoding the first 30 s window once when it must also
detect the language.

Why this exists: in faster-whisper 1.2.x, ``transcribe(language=None)`` first calls
``detect_language``, which runs the encoder on the first 30 s window, and then
``generate_segments``, which runs the encoder on that same window again to decode it
(``generate_segments`` accepts a ready ``encoder_output``, but ``transcribe`` hands it
none). The encoder costs the same for every window however little speech it holds (about
0.5 s for base int8 on 2 cores), so for a voice note of under 30 s from a user with no
language setting, the default, detection doubled the encoder work: +0.5 s, or +25-30 %,
per note. Here detection encodes the window exactly as decoding will and hands the
output on; VAD, the decoding options and the fallbacks all stay faster-whisper's.

With a language hint (``transcribe_with_hint``), detection's answer gives way to the
user's language when detection is unsure (``language_prior``).

Module imported lazily (it imports faster-whisper, which is slow to import and must see
``HF_HUB_OFFLINE`` first).
"""

from __future__ import annotations

import threading
from typing import Any

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import pad_or_trim

from infrastructure.whisper.language_prior import choose_language


class SingleEncodeWhisperModel(WhisperModel):  # type: ignore[misc]  # faster-whisper is untyped
    """Language detection and decoding share the first window's encoder output."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # per thread: with several workers, transcriptions run in parallel threads
        self._handoffs = threading.local()

    def transcribe_with_hint(self, audio: Any, hint: str | None, **options: Any) -> Any:
        """``transcribe`` with no language set, detection deferring to ``hint`` when unsure.

        Detection runs inside ``transcribe`` itself (only the segments are lazy), so the
        hint is in place for exactly this call's detection."""
        self._handoffs.hint = hint
        try:
            return self.transcribe(audio, language=None, **options)
        finally:
            self._handoffs.hint = None

    def detect_language(  # noqa: PLR0917  (faster-whisper's signature, positional)
        self,
        audio: np.ndarray | None = None,
        features: np.ndarray | None = None,
        vad_filter: bool = False,
        vad_parameters: Any = None,
        language_detection_segments: int = 1,
        language_detection_threshold: float = 0.5,
    ) -> tuple[str, float, list[tuple[str, float]]]:
        """As faster-whisper's, and for the one-window features ``transcribe`` passes, the
        encoder output is kept for ``generate_segments``.

        faster-whisper encodes ``features[..., :3000]``; this encodes the window its decoding
        loop will (``features[:, :min(3000, frames - 1)]``): for audio under 30 s that leaves
        out the final 10 ms frame, which ``transcribe`` never decodes either. With one
        detection segment the threshold cannot change the answer, so it is not consulted.
        """
        self._handoffs.value = None
        hint: str | None = getattr(self._handoffs, "hint", None)
        if audio is not None or features is None or language_detection_segments != 1:
            language, probability, probabilities = super().detect_language(
                audio,
                features,
                vad_filter,
                vad_parameters,
                language_detection_segments,
                language_detection_threshold,
            )
        else:
            frames = min(self.feature_extractor.nb_max_frames, features.shape[-1] - 1)
            encoder_output = self.encode(pad_or_trim(features[:, :frames]))
            self._handoffs.value = (features, encoder_output)
            ranked = self.model.detect_language(encoder_output)[0]  # [("<|en|>", p), ...]
            probabilities = [(token[2:-2], p) for token, p in ranked]
            language, probability = probabilities[0]
        if hint is not None:
            if features is not None:
                seconds = features.shape[-1] / self.frames_per_second
            else:
                rate = self.feature_extractor.sampling_rate
                seconds = 0.0 if audio is None else len(audio) / rate
            language, probability = choose_language(probabilities, hint, seconds)
        return language, probability, probabilities

    def generate_segments(
        self,
        features: np.ndarray,
        tokenizer: Any,
        options: Any,
        log_progress: bool = False,
        encoder_output: ctranslate2.StorageView | None = None,
    ) -> Any:
        """faster-whisper's, given the kept encoder output when it belongs to ``features``.

        Only the window at offset 0 uses a passed encoder output (later windows are encoded
        as usual), and only when decoding starts there (no ``clip_timestamps``) is it the
        window detection encoded.
        """
        handoff = getattr(self._handoffs, "value", None)
        self._handoffs.value = None
        if (
            encoder_output is None
            and handoff is not None
            and options.clip_timestamps == "0"
            and _same_array(handoff[0], features)
        ):
            encoder_output = handoff[1]
        return super().generate_segments(features, tokenizer, options, log_progress, encoder_output)


def _same_array(view: np.ndarray, array: np.ndarray) -> bool:
    """``transcribe`` passes detection ``features[..., 0:]``: a view of the same memory."""
    return bool(
        view.shape == array.shape
        and view.__array_interface__["data"][0] == array.__array_interface__["data"][0]
    )
