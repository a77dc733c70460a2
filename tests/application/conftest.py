"""A whole application on in-memory fakes, rebuilt for every test."""

from __future__ import annotations

import attrs
import pytest

from application.bootstrap import Ports, Tuning, UseCases, bootstrap
from domain.policies import TranscriptionPolicy
from tests.application.in_memory import (
    FakeClock,
    FakeConverter,
    FakeFileSource,
    FakeFormatter,
    FakeRecognizer,
    InMemoryAccountRepository,
    InMemoryActionResults,
    InMemoryJobQueue,
    InMemoryJobRepository,
    InMemoryPaymentRepository,
    InMemoryPreferencesRepository,
    RecordingAlerts,
    RecordingMessenger,
    RecordingStarsGateway,
)
from tests.application.in_memory_chats import InMemoryChatRepository
from tests.application.in_memory_erasure import InMemoryUserDataEraser


@attrs.define
class World:
    clock: FakeClock
    jobs: InMemoryJobRepository
    accounts: InMemoryAccountRepository
    queue: InMemoryJobQueue
    files: FakeFileSource
    converter: FakeConverter
    recognizer: FakeRecognizer
    llm: FakeFormatter
    local: FakeFormatter
    messenger: RecordingMessenger
    settings: InMemoryPreferencesRepository
    payments: InMemoryPaymentRepository
    stars: RecordingStarsGateway
    alerts: RecordingAlerts
    chats: InMemoryChatRepository
    action_results: InMemoryActionResults
    app: UseCases

    def ports(self, **replaced: object) -> Ports:
        """This world's in-memory ports, some of them replaced (by real adapters)."""
        ports: dict[str, object] = {
            "jobs": self.jobs,
            "accounts": self.accounts,
            "queue": self.queue,
            "files": self.files,
            "converter": self.converter,
            "recognizer": self.recognizer,
            "llm_formatters": [self.llm],
            "local_formatter": self.local,
            "messenger": self.messenger,
            "clock": self.clock,
            "preferences": self.settings,
            "payments": self.payments,
            "stars": self.stars,
            "alerts": self.alerts,
            "chats": self.chats,
            "erasure": InMemoryUserDataEraser(self.jobs, self.settings, self.action_results),
            "action_results": self.action_results,
            "action_writers": [self.llm],
        }
        return Ports(**{**ports, **replaced})  # type: ignore[arg-type]

    @classmethod
    def build(cls, *, max_chunk_seconds: float | None = None, **tuning: object) -> World:
        clock = FakeClock()
        files = FakeFileSource()
        parts = {
            "clock": clock,
            "jobs": InMemoryJobRepository(),
            "accounts": InMemoryAccountRepository(),
            "queue": InMemoryJobQueue(clock),
            "files": files,
            "converter": FakeConverter(files),
            "recognizer": FakeRecognizer(max_chunk_seconds),
            "llm": FakeFormatter("llm"),
            "local": FakeFormatter("local"),
            "messenger": RecordingMessenger(),
            "settings": InMemoryPreferencesRepository(),
            "payments": InMemoryPaymentRepository(),
            "stars": RecordingStarsGateway(),
            "alerts": RecordingAlerts(),
            "chats": InMemoryChatRepository(),
            "action_results": InMemoryActionResults(),
        }
        ports = Ports(
            jobs=parts["jobs"],
            accounts=parts["accounts"],
            queue=parts["queue"],
            files=files,
            converter=parts["converter"],
            recognizer=parts["recognizer"],
            llm_formatters=[parts["llm"]],
            local_formatter=parts["local"],
            messenger=parts["messenger"],
            clock=clock,
            preferences=parts["settings"],
            payments=parts["payments"],
            stars=parts["stars"],
            alerts=parts["alerts"],
            chats=parts["chats"],
            erasure=InMemoryUserDataEraser(
                parts["jobs"],  # type: ignore[arg-type]
                parts["settings"],  # type: ignore[arg-type]
                parts["action_results"],  # type: ignore[arg-type]
            ),
            action_results=parts["action_results"],
            action_writers=[parts["llm"]],
        )
        settings = {"policy": TranscriptionPolicy(format_word_threshold=5), **tuning}
        return cls(**parts, app=bootstrap(ports, Tuning(**settings)))  # type: ignore[arg-type]


@pytest.fixture
def world() -> World:
    return World.build()
