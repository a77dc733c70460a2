"""Fixtures for the whole run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# The Hypothesis profile (HYPOTHESIS_PROFILE) is loaded before any test module makes
# its own settings, which inherit from it.
import tests.hypothesis_profiles  # noqa: F401

pytest_plugins = ["tests.hang_report", "tests.properties_plugin"]


@pytest.fixture(scope="session", autouse=True)
def shared_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One assembled offline model for the whole run: every bot, webhook and worker the
    tests start loads it at start, and assembling it anew (copying and hashing 145 MB)
    for each test's data directory would cost seconds each. Subprocesses inherit it."""
    path = tmp_path_factory.mktemp("models")
    previous = os.environ.get("WHISPER_MODELS_DIR")
    os.environ["WHISPER_MODELS_DIR"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("WHISPER_MODELS_DIR", None)
    else:
        os.environ["WHISPER_MODELS_DIR"] = previous
