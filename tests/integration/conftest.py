"""Fixtures for the integration tests: real SQLite files in a temporary directory, and the
Bot API fake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from infrastructure.sqlite import SqliteDatabase
from tests.fakes.telegram import telegram_fake  # noqa: F401 (fixture)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "voicescribe.db"


@pytest.fixture
async def open_db(db_path: Path) -> AsyncIterator[Callable[..., SqliteDatabase]]:
    """Open any number of databases on one file (as separate processes would); all are
    closed after the test."""
    opened: list[SqliteDatabase] = []

    def factory(path: Path = db_path, **kwargs: int) -> SqliteDatabase:
        database = SqliteDatabase(path, **kwargs)
        opened.append(database)
        return database

    yield factory
    for database in opened:
        await database.close()


@pytest.fixture
def db(open_db: Callable[..., SqliteDatabase]) -> SqliteDatabase:
    return open_db()


@pytest.fixture
def corrupted_db_path(db_path: Path) -> Path:
    """A file where the database should be, holding something that is not SQLite."""
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not a database, just some text " * 200)
    return db_path
