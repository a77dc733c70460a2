"""Every ``JobRepository`` keeps a job's timed segments (in memory, SQLite, Tablestore through
the real SDK against its wire fake): they read back equal, Unicode and speakers included; a
job without segments (a row from before they were kept) reads back with none and delivers its
text untimed; an unreadable segments column is a permanent ``StorageError``."""

from __future__ import annotations

import pytest

from application.errors import StorageError
from domain.transcript import Segment
from tests.contract.test_repository_contract import Subject, make_job, subject

__all__ = ["subject"]  # the contract's fixture, over every store

SEGMENTS = (
    Segment(0.0, 2.48, "Привет, ёлка <b>&</b>."),
    Segment(2.5, 3600.125, "second", speaker="A"),
    Segment(3600.2, 3600.2, "你好"),
)


async def test_a_jobs_segments_read_back_equal(subject: Subject) -> None:
    job = make_job("timed")
    job.start(1_700_000_010.0)
    job.segments = SEGMENTS
    job.deliver("Привет, ёлка <b>&</b>. second 你好", "ru", 1_700_000_020.0)
    job.events.clear()
    await subject.jobs.add(job)

    stored = await subject.jobs.get("timed")

    assert stored is not None and stored.segments == SEGMENTS
    assert stored == job
    assert stored.recognized.timed


async def test_segments_saved_later_read_back_and_none_reads_untimed(subject: Subject) -> None:
    await subject.jobs.add(make_job("later"))
    job = await subject.jobs.get("later")
    assert job is not None and job.segments == ()
    assert not job.recognized.segments, "not recognized yet: nothing"
    job.start(1_700_000_010.0)
    job.segments = SEGMENTS[:1]
    job.transcript = "Привет."
    await subject.jobs.save(job)

    stored = await subject.jobs.get("later")
    assert stored is not None and stored.segments == SEGMENTS[:1]

    stored.segments = ()  # as a row written before segments were kept
    await subject.jobs.save(stored)
    legacy = await subject.jobs.get("later")
    assert legacy is not None and legacy.segments == ()
    assert legacy.recognized.segments == (Segment(None, None, "Привет."),)


async def test_an_unreadable_segments_column_is_a_permanent_storage_error(
    subject: Subject,
) -> None:
    if subject.raw is None:
        pytest.skip("this store keeps objects, not encoded rows")
    await subject.jobs.add(make_job("broken"))
    await subject.raw.job_columns(
        make_job("broken"), {"segments": '{"version": 99, "segments": []}'}
    )

    with pytest.raises(StorageError) as error:
        await subject.jobs.get("broken")
    assert not error.value.transient
