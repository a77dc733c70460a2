"""``voicescribe`` as a person runs it: a real process, real files, the embedded default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.media_clips import SAMPLES, make_clips, silence
from tests.word_error_rate import word_error_rate


def voicescribe(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith(("_BACKEND", "_API_KEY")) and key != "VOICESCRIBE_PROFILE"
    }
    environment.update(VOICESCRIBE_DATA_DIR=str(data_dir), **env)
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.mark.slow
def test_every_accepted_format_is_transcribed_to_stdout_only(
    tmp_path: Path, data_dir: Path
) -> None:
    expected = (SAMPLES / "en-weather.txt").read_text()
    paths = []
    for name, clip in make_clips((SAMPLES / "en-weather.ogg").read_bytes()).items():
        path = tmp_path / f"note.{name}"
        path.write_bytes(clip)
        paths.append(str(path))

    result = voicescribe("transcribe", "--json", "--language", "en", *paths, data_dir=data_dir)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(paths), "one JSON object per file and nothing else on stdout"
    for line, path in zip(lines, paths, strict=True):
        report = json.loads(line)
        assert report["file"] == path
        assert word_error_rate(expected, report["text"]) <= 0.25, report["text"]
        assert report["language"] == "en"
        assert 9 < report["duration_seconds"] < 10.5
        assert {"fetch", "recognize", "format", "deliver"} <= set(report["timings"])


@pytest.mark.slow
def test_plain_output_is_just_the_text(data_dir: Path) -> None:
    result = voicescribe("transcribe", str(SAMPLES / "ru-greeting.ogg"), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    expected = (SAMPLES / "ru-greeting.txt").read_text()
    assert word_error_rate(expected, result.stdout) <= 0.45, result.stdout
    assert result.stdout.strip().startswith("Привет")


@pytest.mark.slow
def test_no_speech_is_one_clear_line(tmp_path: Path, data_dir: Path) -> None:
    quiet = tmp_path / "quiet.ogg"
    quiet.write_bytes(silence())
    result = voicescribe("transcribe", str(quiet), data_dir=data_dir)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"voicescribe: {quiet}: no speech found in the recording\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.ogg", None, "no such file"),
        ("empty.ogg", b"", "the file is empty"),
        ("notes.ogg", b"just some text, not audio at all\n" * 20, "could not be read as audio"),
        ("broken.mp3", bytes(range(256)) * 64, "could not be read as audio"),
    ],
)
def test_bad_input_gets_one_clear_line_and_no_traceback(
    tmp_path: Path, data_dir: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = voicescribe("transcribe", str(path), data_dir=data_dir)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"voicescribe: {path}: ")
    assert message in lines[0]


def test_corrupted_audio_gets_one_clear_line(tmp_path: Path, data_dir: Path) -> None:
    voice_note = bytearray((SAMPLES / "en-weather.ogg").read_bytes())
    voice_note[:200] = bytes(200)  # headers destroyed, the rest intact
    path = tmp_path / "corrupted.ogg"
    path.write_bytes(bytes(voice_note))
    result = voicescribe("transcribe", str(path), data_dir=data_dir)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"voicescribe: {path}: this file could not be read as audio"
    ]


def test_config_masks_secrets_and_names_the_adapters(data_dir: Path) -> None:
    secret = "sk-very-secret-dashscope-key"
    result = voicescribe("config", data_dir=data_dir, DASHSCOPE_API_KEY=secret)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert secret not in result.stdout
    assert shown["settings"]["DASHSCOPE_API_KEY"].endswith(secret[-4:])
    assert shown["settings"]["FORMAT_WORD_THRESHOLD"] == 150
    assert shown["adapters"]["recognizer"] == "WhisperRecognizer"
    assert shown["adapters"]["jobs"] == "SqliteJobRepository"


def test_configuration_errors_are_listed_in_one_line(data_dir: Path) -> None:
    result = voicescribe(
        "config", data_dir=data_dir, VOICESCRIBE_PROFILE="alibaba", STORAGE_BACKEND="redis"
    )
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "STORAGE_BACKEND='redis' is unknown; use one of: sqlite, tablestore" in line
    for name in ("DASHSCOPE_API_KEY", "TELEGRAM_BOT_TOKEN", "MNS_ENDPOINT", "TABLESTORE_INSTANCE"):
        assert name in line
