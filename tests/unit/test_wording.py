"""Every language says everything, with the same placeholders; the choice of language."""

from __future__ import annotations

import string

import pytest

from application.notices import Notice, NoticeReason, describe
from application.progress import Progress, Stage
from application.wording import DEFAULT, LANGUAGES, language_of, length, say


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_language_has_every_key_with_the_same_placeholders(language: str) -> None:
    english, other = LANGUAGES[DEFAULT], LANGUAGES[language]
    assert set(other) == set(english)
    for key, template in english.items():
        assert placeholders(other[key]) == placeholders(template), key


def test_every_notice_and_stage_has_words() -> None:
    for language in LANGUAGES:
        for reason in NoticeReason:
            assert describe(Notice(reason, 1, 2, 90.0, 20_000_000), language)
        for stage in Stage:
            assert say(f"stage.{stage.value}", language, counter="", position="")


@pytest.mark.parametrize(
    ("code", "language"),
    [("ru", "ru"), ("ru-RU", "ru"), ("RU", "ru"), ("en-GB", "en"), ("de", "en"), (None, "en")],
)
def test_the_users_language_or_english(code: str | None, language: str) -> None:
    assert language_of(code) == language


def test_lengths_in_whole_units() -> None:
    assert length(30, "en") == "30 s"
    assert length(600, "ru") == "10 мин"
    assert length(3 * 3600, "en") == "3 h"
    assert length(5400, "en") == "90 min"


def test_a_queued_status_names_the_place_in_each_language() -> None:
    from infrastructure.telegram.progress_text import progress_text

    assert progress_text(Progress(Stage.QUEUED, queue_position=3), "en") == (
        "⏳ In the queue, position 3…"
    )
    assert progress_text(Progress(Stage.QUEUED, queue_position=3), "ru") == "⏳ В очереди, место 3…"
