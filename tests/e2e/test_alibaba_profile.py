"""``voicescribe`` on the ``alibaba`` profile: a real process, every cloud service faked.

DashScope, Gemini, Tablestore and MNS are local fakes of their wire protocols, run in this
test process; the command under test talks to them through the real SDKs, exactly as it
would talk to the cloud. Only the endpoints and the credentials differ from production.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import pytest

from entrypoints.composition.settings import VARIABLES
from infrastructure.tablestore import TablestoreConnection, create_tables
from tests.fakes.dashscope_server import SERVER_ERROR, FakeDashScope
from tests.fakes.gemini_server import GeminiFake
from tests.fakes.mns_server import MnsFake
from tests.fakes.tablestore import FakeTablestore
from tests.media_clips import SAMPLES

ACCESS_KEY_ID = "LTAI5t-test-access-key"
ACCESS_KEY_SECRET = "test-access-key-secret-for-the-fakes"
DASHSCOPE_KEY = "sk-test-dashscope-key-0123"
GEMINI_KEY = "test-gemini-key-4567"
QUEUE = "voicescribe-jobs"
TABLES = (
    "voicescribe_jobs",
    "voicescribe_job_keys",
    "voicescribe_job_files",
    "voicescribe_accounts",
    "voicescribe_settings",
    "voicescribe_processed_updates",
    "voicescribe_payments",
    "voicescribe_chats",
    "voicescribe_action_results",
    "voicescribe_recognizer_throughput",
)
VOICE_NOTE = SAMPLES / "en-weather.ogg"
SHORT_TRANSCRIPT = (SAMPLES / "en-weather.txt").read_text().strip()
LONG_TRANSCRIPT = " ".join(
    f"This is sentence number {n} of a long voice note about tomorrow's weather."
    for n in range(1, 6)
)  # 60 words: as many as 9.6 s of speech can hold (more is not taken for a transcript)
FORMAT_FROM = "50"  # FORMAT_WORD_THRESHOLD for these tests: the long one reaches the LLMs

# Every variable the configuration reads, and the families it belongs to: none of them may
# leak into the command from the environment the tests happen to run in.
_CONFIGURATION = set(VARIABLES)
_FAMILIES = ("VOICESCRIBE_", "DASHSCOPE_", "GEMINI_", "GOOGLE_", "TABLESTORE_", "MNS_",
             "ALIBABA_", "TELEGRAM_")  # fmt: skip
_PROXIES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def clean_environment(**env: str) -> dict[str, str]:
    """This process's environment without any configuration or proxy, plus ``env``."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if name not in _CONFIGURATION
        and not name.startswith(_FAMILIES)
        and name.lower() not in _PROXIES
    }
    return {**kept, "NO_PROXY": "127.0.0.1,localhost", **env}


def voicescribe(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -m entrypoints.cli ARGS`` with exactly the configuration in ``env``."""
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        capture_output=True,
        text=True,
        env=clean_environment(**env),
        timeout=300,
        check=False,
    )


def alibaba_env(
    data_dir: Path,
    tablestore: FakeTablestore,
    mns: MnsFake,
    dashscope: FakeDashScope | None = None,
    gemini: GeminiFake | None = None,
    **overrides: str,
) -> dict[str, str]:
    """The alibaba profile with every endpoint on a fake (an unused service: a dead port)."""
    return {
        "VOICESCRIBE_PROFILE": "alibaba",
        "VOICESCRIBE_DATA_DIR": str(data_dir),
        "DASHSCOPE_API_KEY": dashscope.api_key if dashscope else DASHSCOPE_KEY,
        "DASHSCOPE_BASE_URL": dashscope.base_url if dashscope else "http://127.0.0.1:9/api/v1",
        "GOOGLE_API_KEY": gemini.api_key if gemini else GEMINI_KEY,
        "GEMINI_BASE_URL": gemini.base_url if gemini else "http://127.0.0.1:9",
        "TABLESTORE_ENDPOINT": tablestore.endpoint,
        "TABLESTORE_INSTANCE": tablestore.instance,
        "MNS_ENDPOINT": mns.endpoint,
        "ALIBABA_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIBABA_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "TELEGRAM_BOT_TOKEN": "123456:dummy-telegram-token",
        **overrides,
    }


def open_tablestore() -> FakeTablestore:
    return FakeTablestore(ACCESS_KEY_ID, ACCESS_KEY_SECRET, instance="voicescribe-e2e")


def open_mns() -> MnsFake:
    return MnsFake(ACCESS_KEY_ID, ACCESS_KEY_SECRET)


Cloud = tuple[FakeTablestore, MnsFake]
Transcribe = Callable[..., subprocess.CompletedProcess[str]]


# --- setup ----------------------------------------------------------------------------


def test_setup_creates_the_tables_and_the_queue_and_can_run_again(tmp_path: Path) -> None:
    with open_tablestore() as tablestore, open_mns() as mns:
        env = alibaba_env(tmp_path / "var", tablestore, mns)
        assert tablestore.store.tables == {}

        first = voicescribe("setup", env=env)

        assert first.returncode == 0, first.stderr
        assert first.stdout == ""
        assert sorted(tablestore.store.tables) == sorted(TABLES)
        jobs = tablestore.store.tables["voicescribe_jobs"]
        assert [name for name, _ in jobs.schema] == ["user_id", "created_us", "job_id"]
        assert jobs.time_to_live == 7 * 24 * 3600
        assert mns.attributes(QUEUE)["VisibilityTimeout"] == 120  # QUEUE_VISIBILITY_SECONDS
        assert all(request.signature_valid for request in tablestore.requests)
        assert f"mns queue {QUEUE} ready" in first.stderr
        assert "Traceback" not in first.stderr

        second = voicescribe("setup", env=env)

        assert second.returncode == 0, second.stderr
        assert "tablestore tables ready (created: none)" in second.stderr
        assert sorted(tablestore.store.tables) == sorted(TABLES)
        assert mns.attributes(QUEUE)["VisibilityTimeout"] == 120
        assert "Traceback" not in second.stderr

        mns.add_queue(QUEUE, visibility_timeout=30)  # made by hand, or by an older release
        third = voicescribe("setup", env=env)

        assert third.returncode == 0, third.stderr
        assert mns.attributes(QUEUE)["VisibilityTimeout"] == 120, "ours is set on it"
        # The cloud profile keeps nothing on local disk: no database, no offline model.
        assert not (tmp_path / "var" / "voicescribe.sqlite3").exists()
        assert not (tmp_path / "var" / "models").exists()


# --- transcribe -------------------------------------------------------------------------


@contextmanager
def prepared_cloud() -> Iterator[Cloud]:
    """Tablestore and MNS fakes with the tables and the queue already in place.

    The tables are made in-process with the code ``voicescribe setup`` runs (tested
    above), which saves a process start per test.
    """

    async def create(tablestore: FakeTablestore) -> None:
        async with TablestoreConnection(
            tablestore.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET, tablestore.instance
        ) as connection:
            await create_tables(connection)

    with open_tablestore() as tablestore, open_mns() as mns:
        asyncio.run(create(tablestore))
        mns.add_queue(QUEUE, visibility_timeout=120)
        yield tablestore, mns


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    """Fresh for each test: the transcript cache (keyed by the file's bytes, in Tablestore)
    would otherwise answer one test's run with another one's transcript."""
    with prepared_cloud() as fakes:
        yield fakes


@pytest.fixture
def dashscope() -> Iterator[FakeDashScope]:
    with FakeDashScope(api_key=DASHSCOPE_KEY) as fake:
        fake.reply = lambda request: f"Qwen formatted. {request.message('user')}"
        yield fake


@pytest.fixture
def gemini() -> Iterator[GeminiFake]:
    with GeminiFake(api_key=GEMINI_KEY, reply=lambda text: f"Gemini formatted. {text}") as fake:
        yield fake


@pytest.fixture
def transcribe(
    tmp_path: Path,
    cloud: Cloud,
    dashscope: FakeDashScope,
    gemini: GeminiFake,
) -> Transcribe:
    def run(*files: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
        env = alibaba_env(tmp_path / "var", *cloud, dashscope, gemini, **overrides)
        return voicescribe("transcribe", "--json", *map(str, files), env=env)

    return run


def only_json_line(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, f"stdout must be exactly one JSON line: {result.stdout!r}"
    report: dict[str, Any] = json.loads(lines[0])
    return report


def stored_job(tablestore: FakeTablestore, job_id: str) -> dict[str, object]:
    """The job's row in the fake's ``jobs`` table, as column -> value."""
    rows = tablestore.store.tables["voicescribe_jobs"].rows
    [columns] = [columns for key, columns in rows.items() if key[2] == job_id]
    return {name: value for name, (value, _) in columns.items()}


def test_a_long_transcript_goes_through_dashscope_tablestore_and_qwen(
    transcribe: Transcribe, cloud: Cloud, dashscope: FakeDashScope, gemini: GeminiFake
) -> None:
    tablestore, mns = cloud
    assert len(LONG_TRANSCRIPT.split()) >= int(FORMAT_FROM)
    dashscope.transcript = lambda request: LONG_TRANSCRIPT

    report = only_json_line(transcribe(VOICE_NOTE, FORMAT_WORD_THRESHOLD=FORMAT_FROM))

    assert report["file"] == str(VOICE_NOTE)
    assert report["formatter"] == "qwen"
    assert report["text"] == f"Qwen formatted. {LONG_TRANSCRIPT}"
    assert report["language"] == "en"
    assert 9 < report["duration_seconds"] < 10.5
    [asr] = [r for r in dashscope.requests if r.kind == "asr"]
    assert asr.body["model"] == "qwen3-asr-flash"
    assert asr.audio_uri.startswith("data:audio/ogg;base64,")  # ASR_AUDIO_FORMAT=opus
    with av.open(io.BytesIO(asr.audio)) as sent:
        assert sent.format.name == "ogg"
        assert sent.streams.audio[0].codec_context.name == "opus"
        assert 9 < float(sent.duration or 0) / av.time_base < 10.5
    # A mono Opus voice note at ~30 kbit/s goes up as its own packets, not re-encoded.
    assert len(asr.audio) == pytest.approx(VOICE_NOTE.stat().st_size, rel=0.05)
    [llm] = [r for r in dashscope.requests if r.kind == "llm"]
    assert llm.body["model"] == "qwen-turbo"
    assert llm.message("user") == LONG_TRANSCRIPT
    assert gemini.requests == []
    job = stored_job(tablestore, report["job"]["job_id"])
    assert job["status"] == "delivered"
    assert job["transcript"] == report["text"]
    assert tablestore.calls("PutRow") and tablestore.calls("UpdateRow")
    assert mns.requests == [], "the CLI processes every file at once, nothing is queued"

    again = only_json_line(transcribe(VOICE_NOTE, FORMAT_WORD_THRESHOLD=FORMAT_FROM))

    assert (again["formatter"], again["text"]) == ("cache", report["text"])
    assert len(dashscope.requests) == 2, "the same bytes again: served from Tablestore"


def test_qwen_failing_with_500_falls_back_to_gemini(
    transcribe: Transcribe, dashscope: FakeDashScope, gemini: GeminiFake
) -> None:
    dashscope.transcript = lambda request: LONG_TRANSCRIPT
    dashscope.queue_llm(*[SERVER_ERROR] * 10)  # more than qwen's retries: it stays down

    report = only_json_line(transcribe(VOICE_NOTE, FORMAT_WORD_THRESHOLD=FORMAT_FROM))

    assert report["formatter"] == "gemini"
    assert report["text"] == f"Gemini formatted. {LONG_TRANSCRIPT}"
    qwen_calls = [r for r in dashscope.requests if r.kind == "llm"]
    assert qwen_calls and all(r.status == 500 for r in qwen_calls)
    [call] = gemini.requests
    assert call.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert call.user_text == LONG_TRANSCRIPT


def test_a_short_transcript_calls_no_llm(
    transcribe: Transcribe, cloud: Cloud, dashscope: FakeDashScope, gemini: GeminiFake
) -> None:
    tablestore, _ = cloud
    dashscope.transcript = lambda request: SHORT_TRANSCRIPT

    report = only_json_line(transcribe(VOICE_NOTE))

    assert report["formatter"] == "local-paragraphs"
    assert str(report["text"]).split() == SHORT_TRANSCRIPT.split()
    assert [r.kind for r in dashscope.requests] == ["asr"]
    assert gemini.requests == []
    assert stored_job(tablestore, report["job"]["job_id"])["status"] == "delivered"


@dataclass(frozen=True)
class RejectedKeyRun:
    result: subprocess.CompletedProcess[str]
    dashscope_answers: list[tuple[str, int | None]]  # (kind, status) of each request
    gemini_requests: int
    job_statuses: list[object]  # of every row in Tablestore's jobs table


@pytest.fixture(scope="module")
def rejected_key(tmp_path_factory: pytest.TempPathFactory) -> RejectedKeyRun:
    """One ``transcribe`` with a DashScope key the service rejects (401), for the tests
    below; each looks at a different part of the outcome."""
    with (
        prepared_cloud() as cloud,
        FakeDashScope(api_key=DASHSCOPE_KEY) as dashscope,
        GeminiFake(api_key=GEMINI_KEY) as gemini,
    ):
        env = alibaba_env(
            tmp_path_factory.mktemp("var"),
            *cloud,
            dashscope,
            gemini,
            DASHSCOPE_API_KEY="sk-revoked-key-0000",
        )
        result = voicescribe("transcribe", "--json", str(VOICE_NOTE), env=env)
        answers = [(request.kind, request.status) for request in dashscope.requests]
        rows = cloud[0].store.tables["voicescribe_jobs"].rows.values()
        statuses = [columns["status"][0] for columns in rows]
        return RejectedKeyRun(result, answers, len(gemini.requests), statuses)


def test_a_rejected_dashscope_key_fails_the_file_at_once(rejected_key: RejectedKeyRun) -> None:
    result = rejected_key.result
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines()[-1].startswith(f"voicescribe: {VOICE_NOTE}: ")
    assert rejected_key.dashscope_answers == [("asr", 401)], "a rejected key is not retried"
    assert rejected_key.gemini_requests == 0
    assert rejected_key.job_statuses == ["failed"], "the job is recorded as failed"


def test_a_rejected_dashscope_key_prints_one_line_and_no_traceback(
    rejected_key: RejectedKeyRun,
) -> None:
    stderr = rejected_key.result.stderr
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1, stderr


def test_a_rejected_dashscope_key_is_named_as_the_cause(rejected_key: RejectedKeyRun) -> None:
    line = rejected_key.result.stderr.splitlines()[-1]
    assert "key" in line.lower(), line


def test_dashscope_down_is_one_line_per_file_and_the_jobs_fail(
    transcribe: Transcribe, cloud: Cloud, dashscope: FakeDashScope
) -> None:
    dashscope.queue_asr(*[SERVER_ERROR] * 20)  # more than the retries of both files
    files = [VOICE_NOTE, SAMPLES / "ru-greeting.ogg"]

    result = transcribe(*files)

    assert (result.returncode, result.stdout) == (1, "")
    assert "Traceback" not in result.stderr, result.stderr
    # Retries are logged as warnings too; the verdicts are the "voicescribe:" lines.
    verdicts = [line for line in result.stderr.splitlines() if line.startswith("voicescribe: ")]
    assert [line.split(": ")[1] for line in verdicts] == list(map(str, files))
    rows = cloud[0].store.tables["voicescribe_jobs"].rows.values()
    assert sorted(columns["status"][0] for columns in rows) == ["failed", "failed"]


# --- config ---------------------------------------------------------------------------


def test_config_names_the_cloud_adapters(tmp_path: Path) -> None:
    with open_tablestore() as tablestore, open_mns() as mns:
        result = voicescribe("config", env=alibaba_env(tmp_path, tablestore, mns))

        assert result.returncode == 0, result.stderr
        shown = json.loads(result.stdout)
        assert shown["adapters"] == {
            "jobs": "TablestoreJobRepository",
            "accounts": "TablestoreAccountRepository",
            "queue": "MnsJobQueue",
            "recognizer": "DashScopeRecognizer",
            "converter": "PyAvConverter",
            "files": "LocalFileSource",
            "uploads": "LocalUploadStorage",
            "formatters": "qwen -> gemini -> local-paragraphs",
        }
        for secret in (DASHSCOPE_KEY, GEMINI_KEY, ACCESS_KEY_ID, ACCESS_KEY_SECRET):
            assert secret not in result.stdout
        assert tablestore.requests == [] and mns.requests == [], "config calls no service"
