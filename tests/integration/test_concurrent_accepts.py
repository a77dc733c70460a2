"""Many voice notes from one user at the same moment, through the real accept handler, on
SQLite and on Tablestore (via its wire fake): the balance is never overspent and the books
balance, whatever the interleaving."""

from __future__ import annotations

import asyncio

import attrs
import pytest

from application.bootstrap import Tuning, bootstrap
from application.commands import AcceptVoiceNote, GrantMinutes
from application.notices import NoticeReason
from application.reports import Acceptance
from domain.jobs import AudioSource, JobStatus, MediaKind
from domain.policies import TranscriptionPolicy
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio
from tests.contract.test_repository_contract import Subject, subject  # noqa: F401 (fixture)

USER = 31


@pytest.fixture
def world_on(subject: Subject) -> World:  # noqa: F811
    world = World.build()
    ports = world.ports(
        jobs=subject.jobs,
        accounts=subject.accounts,
        llm_formatters=[],
    )
    # Everything is queued, so the accepts race on the reservation alone.
    tuning = Tuning(policy=TranscriptionPolicy(sync_threshold_seconds=0), trial_minutes=0)
    return attrs.evolve(
        world, jobs=subject.jobs, accounts=subject.accounts, app=bootstrap(ports, tuning)
    )  # type: ignore[arg-type]


async def test_concurrent_accepts_never_overspend(world_on: World) -> None:
    world = world_on
    await world.app.bus.handle(GrantMinutes(USER, 30))
    for index in range(20):
        world.files.files[f"f{index}"] = FakeAudio(150.0)  # 3 minutes each

    outcomes = await asyncio.gather(
        *(
            world.app.bus.handle(
                AcceptVoiceNote(
                    f"r{index}",
                    USER,
                    USER,
                    AudioSource(MediaKind.VOICE, f"f{index}", f"u{index}", 150.0),
                )
            )
            for index in range(20)
        )
    )

    queued = [o for o in outcomes if o.acceptance is Acceptance.QUEUED]
    refused = [o for o in outcomes if o.acceptance is Acceptance.REJECTED]
    assert len(queued) == 10 and len(refused) == 10
    assert all(o.notice.reason is NoticeReason.INSUFFICIENT_MINUTES for o in refused)
    account = await world.accounts.get(USER)
    assert account is not None
    assert (account.balance, account.reserved, account.spent) == (0, 30, 0)
    assert account.balance + account.reserved + account.spent == account.credited
    for outcome in queued:
        job = await world.jobs.get(outcome.job_id)
        assert job is not None and account.reservations[job.job_id] == job.reserved_minutes == 3
    for outcome in refused:
        job = await world.jobs.get(outcome.job_id)
        assert job is not None and job.status is JobStatus.FAILED
        assert job.job_id not in account.reservations
