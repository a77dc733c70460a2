"""A short Russian voice note from a user whose Telegram is in Russian, language on auto,
through the real use case with the real converter and the offline model (issue #13: such
a note once came back as a French-looking loop, and was charged).

Robust on purpose: the text must be mostly Cyrillic, not degenerate, and close to the
script; the job is delivered and charged one minute."""

from __future__ import annotations

from pathlib import Path

import pytest

from application.bootstrap import Tuning, bootstrap
from application.commands import AcceptVoiceNote
from domain.jobs import AudioSource, JobStatus, MediaKind, UserStyle
from domain.policies import TranscriptionPolicy
from domain.recognition_quality import degenerate_recognition
from infrastructure.audio import PyAvConverter
from infrastructure.local.formatter import ParagraphFormatter
from infrastructure.whisper import WhisperRecognizer
from tests.application.conftest import World
from tests.word_error_rate import word_error_rate

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
USER = 77


class SampleFiles:
    """The committed samples, by file id."""

    async def fetch(self, source: AudioSource) -> bytes:
        return (SAMPLES / source.file_id).read_bytes()


def cyrillic_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum("а" <= c.lower() <= "я" or c.lower() == "ё" for c in letters) / max(1, len(letters))


async def test_a_short_russian_note_with_the_telegram_language_is_russian_text(
    shared_models_dir: Path,
) -> None:
    world = World.build()
    ports = world.ports(
        files=SampleFiles(),
        converter=PyAvConverter(),
        recognizer=WhisperRecognizer("base", models_dir=shared_models_dir),
        llm_formatters=[],
        local_formatter=ParagraphFormatter(),
    )
    app = bootstrap(ports, Tuning(policy=TranscriptionPolicy()))

    await app.bus.handle(
        AcceptVoiceNote(
            request_id="tg:ru-short",
            user_id=USER,
            chat_id=USER,
            source=AudioSource(MediaKind.VOICE, "ru-short.ogg", "u-ru-short", 4.0),
            style=UserStyle(language=None, ui_language="ru"),
        )
    )

    job = world.jobs.rows["tg:ru-short"]
    assert job.status is JobStatus.DELIVERED, (job.error, world.messenger.notices)
    [(_, text)] = world.messenger.delivered
    assert job.language == "ru"
    assert cyrillic_share(text) >= 0.9, text
    assert degenerate_recognition(text, job.duration_seconds) is None, text
    script = (SAMPLES / "ru-short.txt").read_text()
    assert word_error_rate(script, text) <= 0.5, text
    account = world.accounts.rows[USER]
    assert (account.spent, account.reserved) == (1, 0)
