"""Builder functions the container calls to open adapters that need closing later."""

from __future__ import annotations

from pathlib import Path

from entrypoints.closing import Closing
from infrastructure.sqlite import SqliteDatabase


def open_sqlite(data_dir: str, closing: Closing) -> SqliteDatabase:
    database = SqliteDatabase(Path(data_dir).expanduser() / "voicescribe.sqlite3")
    closing.register("sqlite", database.close)
    return database


def models_dir(data_dir: str) -> Path:
    return Path(data_dir).expanduser() / "models"
