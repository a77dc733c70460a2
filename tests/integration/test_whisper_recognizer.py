"""The offline recognizer on the bundled voice notes, through the real converter.

The model (packaged Whisper base) is assembled and loaded once per session. Bounds were
set from measurements (English WER 0.04, Russian WER 0.19 / CER 0.11) with a margin that
still fails on wrong-language or garbage output. Detecting the language must not cost a
second encoder pass, nor change what is decoded.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from application.errors import RecognitionFailed
from domain.policies import PCM_16K, STANDARD_MP3, AudioEncoding, AudioProfile
from infrastructure.audio import PyAvConverter
from infrastructure.whisper import WhisperRecognizer
from infrastructure.whisper.model_files import (
    MODEL_BIN_SHA256,
    MODEL_BIN_SIZE,
    PACKAGED_MODEL_DIRNAME,
    ensure_assembled,
)
from tests.word_error_rate import char_error_rate, word_error_rate

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def recognizer(models_dir: Path) -> WhisperRecognizer:
    loaded = WhisperRecognizer("base", models_dir=models_dir)
    loaded.load()
    return loaded


def _sample(name: str) -> tuple[bytes, str]:
    return (SAMPLES / f"{name}.ogg").read_bytes(), (SAMPLES / f"{name}.txt").read_text()


async def _pcm(data: bytes) -> bytes:
    return await PyAvConverter().convert(data, PCM_16K)


def test_it_wants_16_khz_pcm_in_chunks_of_bounded_memory() -> None:
    unloaded = WhisperRecognizer("base")

    assert unloaded.encoding is AudioEncoding.PCM_S16LE
    assert unloaded.max_chunk_seconds == 600.0


def test_the_packaged_model_is_assembled_and_verified(
    recognizer: WhisperRecognizer, models_dir: Path
) -> None:
    target = models_dir / PACKAGED_MODEL_DIRNAME
    model_bin = target / "model.bin"
    assert model_bin.stat().st_size == MODEL_BIN_SIZE
    digest = hashlib.sha256()
    with model_bin.open("rb") as file:
        while block := file.read(1 << 22):
            digest.update(block)
    assert digest.hexdigest() == MODEL_BIN_SHA256

    before = model_bin.stat().st_mtime_ns
    ensure_assembled(target)  # size and stamp only: no copy, no hashing
    assert model_bin.stat().st_mtime_ns == before


def test_the_model_is_loaded_once_per_process(
    recognizer: WhisperRecognizer, models_dir: Path
) -> None:
    another = WhisperRecognizer("base", models_dir=models_dir)

    assert another.load() is recognizer.load()


async def test_recognizes_english(recognizer: WhisperRecognizer) -> None:
    audio, script = _sample("en-weather")

    result = await recognizer.recognize(await _pcm(audio), PCM_16K, "en")

    assert word_error_rate(script, result.text) <= 0.25, result.text
    assert result.language == "en"


async def test_recognizes_russian(recognizer: WhisperRecognizer) -> None:
    audio, script = _sample("ru-greeting")

    result = await recognizer.recognize(await _pcm(audio), PCM_16K, "ru")

    assert word_error_rate(script, result.text) <= 0.45, result.text
    assert char_error_rate(script, result.text) <= 0.25, result.text
    assert result.language == "ru"


async def test_detects_the_language_without_a_hint(recognizer: WhisperRecognizer) -> None:
    audio, script = _sample("en-weather")

    result = await recognizer.recognize(await _pcm(audio), PCM_16K, None)

    assert result.language == "en"
    assert word_error_rate(script, result.text) <= 0.25, result.text


async def test_accepts_mp3_too(recognizer: WhisperRecognizer) -> None:
    audio, script = _sample("en-weather")
    mp3 = await PyAvConverter().convert(audio, STANDARD_MP3)

    result = await recognizer.recognize(mp3, STANDARD_MP3, "en-US")

    assert word_error_rate(script, result.text) <= 0.25, result.text


@pytest.mark.parametrize("kind", ["silence", "noise", "empty"])
async def test_no_speech_gives_empty_text(recognizer: WhisperRecognizer, kind: str) -> None:
    samples = {
        "silence": np.zeros(16_000 * 5),
        "noise": np.random.default_rng(3).normal(0.0, 0.05, 16_000 * 5),
        "empty": np.zeros(0),
    }[kind]
    pcm = (samples * 32767).astype("<i2").tobytes()

    result = await recognizer.recognize(pcm, PCM_16K, "en")

    assert result.text == ""
    assert result.language is None


async def test_pcm_at_another_rate_is_refused(recognizer: WhisperRecognizer) -> None:
    eight_khz = AudioProfile(AudioEncoding.PCM_S16LE, sample_rate=8_000, bitrate_kbps=None)

    with pytest.raises(RecognitionFailed, match="16000 Hz"):
        await recognizer.recognize(bytes(16_000), eight_khz, "en")


async def test_a_local_directory_setting_is_loaded_as_is(models_dir: Path) -> None:
    local = WhisperRecognizer(str(models_dir / PACKAGED_MODEL_DIRNAME))
    audio, script = _sample("en-weather")

    result = await local.recognize(await _pcm(audio), PCM_16K, "en")

    assert word_error_rate(script, result.text) <= 0.25


async def test_a_directory_without_a_model_fails_clearly(tmp_path: Path) -> None:
    broken = WhisperRecognizer(str(tmp_path))

    with pytest.raises(RecognitionFailed, match="cannot load the speech model") as caught:
        await broken.recognize(bytes(32_000), PCM_16K, None)

    assert caught.value.transient is False


def _count_encoder_passes(monkeypatch: pytest.MonkeyPatch, model: Any) -> list[int]:
    """The frames of every window the real encoder is run on, in order."""
    windows: list[int] = []
    real: Callable[[Any], Any] = model.encode

    def encode(features: Any) -> Any:
        windows.append(features.shape[-1])
        return real(features)

    monkeypatch.setattr(model, "encode", encode)
    return windows


async def test_detecting_the_language_costs_no_second_encoder_pass(
    recognizer: WhisperRecognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio, script = _sample("ru-greeting")
    pcm = await _pcm(audio)
    windows = _count_encoder_passes(monkeypatch, recognizer.load())

    detected = await recognizer.recognize(pcm, PCM_16K, None)
    passes_detecting = len(windows)
    hinted = await recognizer.recognize(pcm, PCM_16K, "ru")

    assert detected.language == "ru"
    assert passes_detecting == 1  # faster-whisper's transcribe alone encodes it twice
    assert len(windows) == 2
    assert detected.text == hinted.text
    assert char_error_rate(script, detected.text) <= 0.25, detected.text


async def test_warming_up_runs_one_recognition_before_the_first_note(
    recognizer: WhisperRecognizer, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    windows = _count_encoder_passes(monkeypatch, recognizer.load())

    await WhisperRecognizer("base", models_dir=models_dir).warm_up()

    assert len(windows) == 1


async def test_recognitions_queue_without_holding_asyncio_s_default_threads(
    recognizer: WhisperRecognizer,
) -> None:
    """As many queued recognitions as asyncio's default executor has threads: other
    blocking work (the converter's) still runs at once, not after the first recognition."""
    threads = min(32, (os.cpu_count() or 1) + 4)  # ThreadPoolExecutor's default size
    finished: list[object] = []

    async def recognize(number: int) -> None:
        await recognizer.recognize(bytes(2 * 16_000), PCM_16K, "en")
        finished.append(number)

    queued = [asyncio.create_task(recognize(number)) for number in range(threads)]
    await asyncio.sleep(0)  # every task has handed its recognition over
    await asyncio.to_thread(finished.append, "other work")
    await asyncio.gather(*queued)

    assert finished[0] == "other work"


@pytest.mark.parametrize(
    ("repeats", "clip_timestamps"),
    [(1, "0"), (4, "0"), (1, "0,5")],
    ids=["one-window", "several-windows", "clipped"],
)
async def test_decoding_after_detection_is_decoding_with_that_language(
    recognizer: WhisperRecognizer, repeats: int, clip_timestamps: str
) -> None:
    """The encoder output handed on is the first window decoding would have encoded: the
    whole note under 30 s, the first 30 s of a longer one, not the window a clip starts."""
    audio, _ = _sample("en-weather")
    pcm = np.frombuffer(await _pcm(audio), dtype="<i2").astype(np.float32) / 32768.0
    samples = np.tile(pcm, repeats)
    model = recognizer.load()

    def decode(language: str | None) -> tuple[str, list[tuple[str, float, float, float]]]:
        segments, info = model.transcribe(
            samples,
            language=language,
            beam_size=1,
            temperature=0.0,
            condition_on_previous_text=False,
            clip_timestamps=clip_timestamps,
        )
        return info.language, [(s.text, s.start, s.end, s.avg_logprob) for s in segments]

    language, detected = decode(None)
    _, hinted = decode(language)

    assert language == "en"
    assert [s[:3] for s in detected] == [s[:3] for s in hinted]
    assert [s[3] for s in detected] == pytest.approx([s[3] for s in hinted], abs=1e-4)
