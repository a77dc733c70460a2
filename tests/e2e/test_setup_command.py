"""``voicescribe setup`` on the local profile: the SQLite database and the offline model.

Setup creates only what the configured backends need, and running it again changes
nothing: the database keeps its data and the model is not assembled a second time.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.e2e.test_alibaba_profile import voicescribe

DATABASE = "voicescribe.sqlite3"
SCHEMA_TABLES = {"jobs", "accounts", "queue_messages", "user_settings", "processed_updates"}


def tables_in(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def test_setup_creates_the_database_and_only_what_is_configured(tmp_path: Path) -> None:
    """Local storage and queue, cloud recognition: no offline model is assembled."""
    data_dir = tmp_path / "var"
    env = {
        "VOICESCRIBE_PROFILE": "local",
        "VOICESCRIBE_DATA_DIR": str(data_dir),
        "WHISPER_BACKEND": "qwen-asr",
        "DASHSCOPE_API_KEY": "sk-never-used-by-setup",
        "DASHSCOPE_BASE_URL": "http://127.0.0.1:9/api/v1",
    }

    first = voicescribe("setup", env=env)

    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    assert first.stderr == f"voicescribe setup: sqlite database ready in {data_dir}\n"
    assert tables_in(data_dir / DATABASE) >= SCHEMA_TABLES
    assert not (data_dir / "models").exists()
    with sqlite3.connect(data_dir / DATABASE) as connection:  # data a second run must keep
        connection.execute(
            "INSERT INTO accounts (user_id, balance, reservations, spent, credited,"
            " trial_granted, version) VALUES (42, 15, '{}', 0, 15, 1, 1)"
        )
        version = connection.execute("PRAGMA user_version").fetchone()

    second = voicescribe("setup", env=env)

    assert second.returncode == 0, second.stderr
    assert second.stderr == first.stderr
    with sqlite3.connect(data_dir / DATABASE) as connection:
        assert connection.execute("SELECT user_id FROM accounts").fetchall() == [(42,)]
        assert connection.execute("PRAGMA user_version").fetchone() == version


@pytest.mark.slow
def test_setup_assembles_the_offline_model_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = {"VOICESCRIBE_DATA_DIR": str(data_dir)}  # the local profile is the default

    first = voicescribe("setup", env=env)

    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    assert first.stderr.splitlines() == [
        f"voicescribe setup: sqlite database ready in {data_dir}",
        "voicescribe setup: offline speech model assembled and loaded",
    ]
    assert tables_in(data_dir / DATABASE) >= SCHEMA_TABLES
    model = data_dir / "models" / "whisper-base"
    assert {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"} <= {
        path.name for path in model.iterdir()
    }
    model_bin = (model / "model.bin").stat()
    assert model_bin.st_size == 145_217_532
    assert json.loads((model / ".model.bin.verified").read_text())["size"] == model_bin.st_size
    leftovers = [p.name for p in model.iterdir() if p.name.startswith((".copy.", ".model.bin."))]
    assert leftovers == [".model.bin.verified"], "no temporary files are left behind"

    second = voicescribe("setup", env=env)

    assert second.returncode == 0, second.stderr
    assert second.stderr == first.stderr
    again = (model / "model.bin").stat()
    assert (again.st_ino, again.st_mtime_ns) == (model_bin.st_ino, model_bin.st_mtime_ns), (
        "an assembled, verified model is not assembled again"
    )
