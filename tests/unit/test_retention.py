"""Properties of ``domain.retention``: what the retention sweep and ``/forget`` may erase."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.jobs import AudioSource, JobStatus, MediaKind, UserStyle, VoiceJob
from domain.retention import DAY_SECONDS, expired, may_erase, retention_cutoff

NOW = 1_800_000_000.0
moments = st.floats(min_value=NOW - 400 * DAY_SECONDS, max_value=NOW)
days = st.integers(min_value=0, max_value=3650)


@st.composite
def jobs(draw: st.DrawFn) -> VoiceJob:
    created = draw(moments)
    return VoiceJob(
        job_id=draw(st.sampled_from(["a", "b", "c"])),
        user_id=1,
        chat_id=1,
        source=AudioSource(MediaKind.VOICE, "f", "u"),
        duration_seconds=10.0,
        reserved_minutes=1,
        style=UserStyle(),
        created_at=created,
        updated_at=draw(st.floats(min_value=created, max_value=NOW)),
        status=draw(st.sampled_from(JobStatus)),
    )


@given(jobs(), st.sets(st.sampled_from(["a", "b", "c"])))
def test_only_a_finished_job_with_its_minutes_settled_may_be_erased(
    job: VoiceJob, held: set[str]
) -> None:
    assert may_erase(job, held) == (job.status.is_finished and job.job_id not in held)


@given(jobs(), days, st.floats(min_value=0, max_value=400 * DAY_SECONDS))
def test_an_expired_job_stays_expired_as_time_passes(
    job: VoiceJob, retention: int, later: float
) -> None:
    if expired(job, NOW, retention):
        assert expired(job, NOW + later, retention)


@given(jobs(), days, days)
def test_a_longer_retention_never_erases_more(job: VoiceJob, shorter: int, longer: int) -> None:
    shorter, longer = sorted((shorter, longer))
    if shorter > 0 and expired(job, NOW, longer):
        assert expired(job, NOW, shorter)


@given(jobs(), days)
def test_only_finished_jobs_older_than_the_retention_expire_and_zero_keeps_all(
    job: VoiceJob, retention: int
) -> None:
    if expired(job, NOW, retention):
        assert retention > 0 and job.status.is_finished
        assert NOW - job.updated_at > retention * DAY_SECONDS
    if job.status.is_finished and retention > 0 and NOW - job.updated_at > retention * 86400 + 1:
        assert expired(job, NOW, retention)
    assert not expired(job, NOW, 0)


def test_a_negative_retention_is_refused() -> None:
    with pytest.raises(ValueError, match="0 \\(forever\\)"):
        retention_cutoff(NOW, -1)
    assert retention_cutoff(NOW, 0) is None
    assert retention_cutoff(NOW, 30) == NOW - 30 * DAY_SECONDS
