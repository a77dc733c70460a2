"""Long-running commands load the offline model at start, and survive a model that won't."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from dependency_injector import providers

from application.errors import RecognitionFailed
from entrypoints.composition.container import build_container
from entrypoints.composition.settings import load_settings
from entrypoints.composition.warm_start import warm_recognizer
from infrastructure.whisper import WhisperRecognizer
from tests.application.in_memory import FakeRecognizer


class CountingWhisper(WhisperRecognizer):
    """The real adapter's type, with the model load replaced by a count (or a failure)."""

    def __init__(self, fails: bool = False) -> None:
        super().__init__()
        self.warmed = 0
        self.fails = fails

    async def warm_up(self) -> None:
        self.warmed += 1
        if self.fails:
            raise RecognitionFailed("model.bin.part2 is missing", transient=False)


def container_with(tmp_path: Path, recognizer: object):  # type: ignore[no-untyped-def]
    container = build_container(load_settings({"VOICESCRIBE_DATA_DIR": str(tmp_path)}))
    container.recognizer.override(providers.Object(recognizer))
    return container


async def test_the_offline_model_is_loaded_once_at_start(tmp_path: Path) -> None:
    whisper = CountingWhisper()
    await warm_recognizer(container_with(tmp_path, whisper))
    assert whisper.warmed == 1


async def test_a_model_that_cannot_load_is_logged_and_does_not_stop_the_bot(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    whisper = CountingWhisper(fails=True)
    with caplog.at_level(logging.ERROR):
        await warm_recognizer(container_with(tmp_path, whisper))
    assert "offline speech model not loaded: model.bin.part2 is missing" in caplog.text


async def test_a_cloud_recognizer_has_nothing_to_warm(tmp_path: Path) -> None:
    await warm_recognizer(container_with(tmp_path, FakeRecognizer()))  # no attribute needed
