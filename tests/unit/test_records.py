"""The record codec both stores use (``infrastructure/records.py``): every job and style
reads back equal, whatever a newer release added to the row, and a row that cannot be read
is a permanent ``StorageError``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.errors import StorageError
from domain.jobs import AudioSource, JobStatus, MediaKind, OutputMode, UserStyle, VoiceJob
from infrastructure.records import (
    JOB_COLUMNS,
    OPTIONAL_JOB_COLUMNS,
    job_columns,
    job_from_columns,
    settings_columns,
    settings_from_columns,
    style_from_json,
)

texts = st.text(max_size=20)
optional_texts = st.none() | texts
ids = st.integers(-(2**53), 2**53)
times = st.floats(0, 4e9, allow_nan=False)
styles = st.builds(
    UserStyle, st.booleans(), st.booleans(), optional_texts, st.sampled_from(OutputMode), texts
)
sources = st.builds(
    AudioSource,
    st.sampled_from(MediaKind),
    texts,
    texts,
    st.none() | times,
    st.none() | st.integers(0, 2**40),
    optional_texts,
    optional_texts,
)
jobs = st.builds(
    VoiceJob,
    job_id=texts,
    user_id=ids,
    chat_id=ids,
    source=sources,
    duration_seconds=times,
    reserved_minutes=st.integers(0, 10_000),
    style=styles,
    created_at=times,
    updated_at=times,
    status=st.sampled_from(JobStatus),
    attempts=st.integers(0, 100),
    reply_to_message_id=st.none() | ids,
    status_message_id=st.none() | ids,
    lease_expires_at=st.none() | times,
    language=optional_texts,
    transcript=optional_texts,
    error=optional_texts,
    version=st.integers(0, 2**31),
)
extras = st.dictionaries(st.text(min_size=1, max_size=8).map("new_{}".format), st.integers())


def with_extra(document: str, extra: dict[str, Any]) -> str:
    return json.dumps({**json.loads(document), **extra})


@given(jobs, extras)
def test_a_job_reads_back_equal_whatever_a_newer_release_added(
    job: VoiceJob, extra: dict[str, Any]
) -> None:
    columns = job_columns(job)
    assert tuple(columns) == JOB_COLUMNS
    newer = {
        **columns,
        **extra,
        "source": with_extra(columns["source"], extra),
        "style": with_extra(columns["style"], extra),
    }

    assert job_from_columns(columns) == job
    assert job_from_columns(newer) == job


@given(jobs)
def test_optional_columns_may_be_absent(job: VoiceJob) -> None:
    present = {name: value for name, value in job_columns(job).items() if value is not None}
    assert set(job_columns(job)) - set(present) <= set(OPTIONAL_JOB_COLUMNS)
    assert job_from_columns(present) == job


@given(styles, extras)
def test_settings_read_back_equal_whatever_a_newer_release_added(
    style: UserStyle, extra: dict[str, Any]
) -> None:
    columns = settings_columns(style, 1.5)
    newer = {**columns, "style": with_extra(columns["style"], extra)}
    assert settings_from_columns(7, columns) == style
    assert settings_from_columns(7, newer) == style


def test_an_older_style_takes_the_defaults() -> None:
    older = {"style": json.dumps({"language": "de"})}
    assert settings_from_columns(7, older) == UserStyle(language="de")


@pytest.mark.parametrize(
    "change",
    [
        {"style": "not json"},
        {"style": "[1, 2]"},
        {"source": json.dumps({"kind": "hologram", "file_id": "f", "file_unique_id": "u"})},
        {"source": json.dumps({"kind": "voice"})},
        {"status": "teleported"},
    ],
)
def test_an_unreadable_job_row_is_a_permanent_storage_error(change: dict[str, str]) -> None:
    job = VoiceJob("j", 1, 1, AudioSource(MediaKind.VOICE, "f", "u"), 1.0, 1, UserStyle(), 0.0, 0.0)
    with pytest.raises(StorageError, match="job row 'j' cannot be read") as raised:
        job_from_columns({**job_columns(job), **change})
    assert not raised.value.transient
    without_version = {k: v for k, v in job_columns(job).items() if k != "version"}
    with pytest.raises(StorageError):
        job_from_columns(without_version)


def test_an_unreadable_settings_row_is_a_permanent_storage_error() -> None:
    for row in ({}, {"style": "{"}, {"style": json.dumps({"output": "hologram"})}):
        with pytest.raises(StorageError, match="settings row 7") as raised:
            settings_from_columns(7, row)
        assert not raised.value.transient


@pytest.mark.parametrize(
    ("stored", "mode"),
    [
        ({"output": "messages", "use_yo": True}, OutputMode.MESSAGES),
        ({"output": "file", "use_code_tags": True}, OutputMode.FILE),
        ({"use_yo": False}, OutputMode.MESSAGES),  # before outputs were a setting
        ({"output": "srt"}, OutputMode.SRT),
        ({"output": "timed"}, OutputMode.TIMED),
    ],
)
def test_a_style_written_before_the_timed_outputs_reads_as_the_same_mode(
    stored: dict[str, object], mode: OutputMode
) -> None:
    assert style_from_json(json.dumps(stored)).output is mode
