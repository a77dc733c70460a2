"""The container builds the configured adapters, and tests can swap any of them."""

from __future__ import annotations

from pathlib import Path

from dependency_injector import providers

from application.commands import AcceptVoiceNote
from application.reports import Acceptance
from domain.jobs import AudioSource, JobStatus, MediaKind
from entrypoints.composition.container import build_container
from entrypoints.composition.settings import load_settings
from infrastructure.sqlite import SqliteJobRepository
from infrastructure.whisper import WhisperRecognizer
from tests.application.in_memory import FakeAudio, FakeConverter, FakeFileSource, FakeRecognizer


def test_the_local_profile_selects_the_embedded_adapters(tmp_path: Path) -> None:
    container = build_container(load_settings({"VOICESCRIBE_DATA_DIR": str(tmp_path)}))
    assert isinstance(container.jobs(), SqliteJobRepository)
    assert isinstance(container.recognizer(), WhisperRecognizer)
    assert container.llm_formatters() == ()
    assert container.tuning().policy.format_word_threshold == 150


async def test_overridden_ports_run_through_the_real_sqlite_storage(tmp_path: Path) -> None:
    container = build_container(
        load_settings({"VOICESCRIBE_DATA_DIR": str(tmp_path), "TRIAL_MINUTES": "3"})
    )
    files = FakeFileSource()
    files.files["f"] = FakeAudio(125.0, "hello from a fake recognizer")
    container.files.override(providers.Object(files))
    container.converter.override(providers.Object(FakeConverter(files)))
    container.recognizer.override(providers.Object(FakeRecognizer()))
    try:
        app = container.use_cases()
        source = AudioSource(MediaKind.VOICE, "f", "uf", 125.0)
        outcome = await app.bus.handle(AcceptVoiceNote("req-1", 9, 9, source))
        assert outcome.acceptance is Acceptance.QUEUED
        report = await app.consumer.consume_one(wait_seconds=0)
        assert report is not None and report.status is JobStatus.DELIVERED
        account = await container.accounts().get(9)
        assert account is not None and (account.spent, account.balance) == (3, 0)
        assert (tmp_path / "voicescribe.sqlite3").exists()
    finally:
        await container.closing().close_all()
