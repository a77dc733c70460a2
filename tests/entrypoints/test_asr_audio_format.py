"""ASR_AUDIO_FORMAT picks what qwen3-asr-flash is sent: OGG/Opus by default, or MP3."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.policies import AudioEncoding
from entrypoints.composition.container import build_container
from entrypoints.composition.settings import ConfigurationError, load_settings

QWEN_ASR = {"WHISPER_BACKEND": "qwen-asr", "DASHSCOPE_API_KEY": "sk-test"}


def test_opus_is_the_default() -> None:
    assert load_settings({}).value("ASR_AUDIO_FORMAT") == "opus"


@pytest.mark.parametrize(
    ("value", "encoding"),
    [("", AudioEncoding.OPUS), ("opus", AudioEncoding.OPUS), ("mp3", AudioEncoding.MP3)],
)
def test_the_dashscope_recognizer_asks_for_the_configured_format(
    tmp_path: Path, value: str, encoding: AudioEncoding
) -> None:
    settings = load_settings(
        {**QWEN_ASR, "ASR_AUDIO_FORMAT": value, "VOICESCRIBE_DATA_DIR": str(tmp_path)}
    )

    recognizer = build_container(settings).recognizer()

    assert recognizer.encoding is encoding


def test_an_unknown_format_is_refused_at_start_up() -> None:
    with pytest.raises(ConfigurationError, match="ASR_AUDIO_FORMAT='wav' is unknown"):
        load_settings({"ASR_AUDIO_FORMAT": "wav"})
