"""One contract for every ``ActionResultRepository``: in memory, SQLite, and Tablestore
(the real SDK against its wire-level fake).

What the actions on a transcript rely on: a result reads back equal (a long translation,
HTML-looking text and all), by its job and action key only; nothing is stored under a key
never written; and the first of two results under one key stays (``add`` says ``False``
to the second, which changes nothing), so a result is made and charged once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from application.ports import ActionResultRepository
from domain.transcript_actions import ActionResult
from infrastructure.sqlite import SqliteActionResults
from infrastructure.tablestore import TablestoreActionResults
from tests.application.in_memory import InMemoryActionResults
from tests.contract.connections import fake_tablestore, sqlite_database

JOB = "tg:5151:42"


@pytest.fixture(params=["in_memory", "sqlite", "tablestore"])
async def results(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[ActionResultRepository]:
    async with AsyncExitStack() as stack:
        if request.param == "in_memory":
            yield InMemoryActionResults()
        elif request.param == "sqlite":
            yield SqliteActionResults(sqlite_database(stack, tmp_path / "actions.db"))
        else:
            yield TablestoreActionResults(await fake_tablestore(stack))


def result(
    key: str = "summary", text: str = "The gist <b>&</b> more.", **kw: object
) -> ActionResult:
    values: dict[str, object] = {
        "job_id": JOB,
        "key": key,
        "user_id": 5151,
        "text": text,
        "provider": "qwen",
        "prompt_version": 1,
        "created_at": 1_700_000_000.25,
        **kw,
    }
    return ActionResult(**values)  # type: ignore[arg-type]


async def test_nothing_is_stored_under_a_key_never_written(
    results: ActionResultRepository,
) -> None:
    assert await results.get(JOB, "summary") is None
    await results.add(result())
    assert await results.get(JOB, "translate:ru") is None
    assert await results.get("tg:5151:43", "summary") is None


async def test_a_result_reads_back_equal(results: ActionResultRepository) -> None:
    long_translation = "Перевод расшифровки. " * 3000  # ~60 KB: an hour of speech
    stored = [
        result(),
        result("translate:ru", long_translation, provider="gemini"),
        result("summary", "offline", job_id="tg:1:1", provider="extractive", user_id=1),
    ]
    for one in stored:
        assert await results.add(one) is True
    for one in stored:
        assert await results.get(one.job_id, one.key) == one


async def test_the_first_result_under_a_key_stays(results: ActionResultRepository) -> None:
    first = result(text="first")
    assert await results.add(first) is True
    assert await results.add(result(text="second", provider="gemini")) is False
    assert await results.get(JOB, "summary") == first
