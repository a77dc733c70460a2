"""25 voice notes from a user never seen before, all at once, through the real accept
handler on every account store: the account's first write is idempotent, so the race to
open it (and then to reserve in it) never fails a note with "too busy"."""

from __future__ import annotations

import asyncio

import attrs
import pytest

from application.bootstrap import Tuning, bootstrap
from application.commands import AcceptVoiceNote
from application.reports import Acceptance
from domain.jobs import AudioSource, MediaKind
from domain.policies import TranscriptionPolicy
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio
from tests.contract.test_repository_contract import Subject, subject  # noqa: F401 (fixture)

NEW_USER = 4_242
NOTES = 25


@pytest.fixture
def world_on(subject: Subject) -> World:  # noqa: F811
    world = World.build()
    ports = world.ports(jobs=subject.jobs, accounts=subject.accounts, llm_formatters=[])
    tuning = Tuning(policy=TranscriptionPolicy(sync_threshold_seconds=0), trial_minutes=NOTES)
    return attrs.evolve(
        world, jobs=subject.jobs, accounts=subject.accounts, app=bootstrap(ports, tuning)
    )  # type: ignore[arg-type]


async def test_simultaneous_notes_on_a_new_account_are_all_accepted(world_on: World) -> None:
    world = world_on
    for index in range(NOTES):
        world.files.files[f"f{index}"] = FakeAudio(30.0)

    outcomes = await asyncio.gather(
        *(
            world.app.bus.handle(
                AcceptVoiceNote(
                    f"r{index}",
                    NEW_USER,
                    NEW_USER,
                    AudioSource(MediaKind.VOICE, f"f{index}", f"u{index}", 30.0),
                )
            )
            for index in range(NOTES)
        ),
        return_exceptions=True,
    )

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    assert all(o.acceptance is Acceptance.QUEUED for o in outcomes)  # type: ignore[union-attr]
    account = await world.accounts.get(NEW_USER)
    assert account is not None
    assert (account.trial, account.balance, account.reserved) == (NOTES, 0, NOTES)
    assert account.balance + account.reserved + account.spent == account.credited
