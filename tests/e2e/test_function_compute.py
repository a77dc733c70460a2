"""voicescribe on Function Compute 3.0: the handlers called with the events FC sends.

``entrypoints.fc`` is called as the Python runtime calls it (``handler(event_bytes,
context)``, settings in the environment, the container built once per instance), with
the ``alibaba`` profile pointed at the protocol fakes: the Telegram Bot API, Tablestore,
MNS and DashScope. Event shapes follow FC 3.0's documentation: the HTTP trigger's
request struct, the timer trigger's ``triggerTime``/``triggerName``/``payload``, and the
MNS queue trigger's CloudEvents batch as EventBridge delivers it (message body base64
decoded, the message already deleted from the queue). Every assertion about the bot's
answer is made the moment the handler returns: that is when FC freezes the instance.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from mns.account import Account
from mns.mns_exception import MNSExceptionBase

from domain.ledger import MinutesAccount
from entrypoints import fc
from entrypoints.composition.settings import ConfigurationError, Settings
from entrypoints.fc.worker_event import Trigger, WorkerEvent, parse_worker_event
from entrypoints.http.app import SECRET_HEADER, WEBHOOK_PATH
from infrastructure.mns.body import encode_job
from infrastructure.tablestore import TablestoreAccountRepository, TablestoreConnection
from tests.e2e.test_alibaba_profile import (
    ACCESS_KEY_ID,
    ACCESS_KEY_SECRET,
    DASHSCOPE_KEY,
    QUEUE,
    alibaba_env,
    clean_environment,
    prepared_cloud,
    stored_job,
)
from tests.fakes.dashscope_server import SERVER_ERROR, FakeDashScope
from tests.fakes.mns_server import MnsFake
from tests.fakes.tablestore import FakeTablestore
from tests.fakes.telegram import SentMessage, TelegramFake
from tests.media_clips import SAMPLES, decode, encode

SECRET = "fc-webhook-secret_0123456789"
USER = 5151
TRANSCRIPT = "Tomorrow will be sunny with a light breeze from the west."
MARK = "sunny with a light breeze"
TRIAL_MINUTES = 15
ASR_TRIES = 3  # DashScopeRecognizer's retry policy: attempts per recognition


@dataclass(frozen=True)
class FunctionMeta:
    name: str
    handler: str
    memory: int
    timeout: int


@dataclass(frozen=True)
class FcContext:
    """The parts of the Python runtime's ``context`` the handlers read."""

    request_id: str
    function: FunctionMeta
    region: str = "cn-hangzhou"
    account_id: str = "1234567890123456"


WEBHOOK = FcContext(
    "1-webhook", FunctionMeta("voicescribe-webhook", "entrypoints.fc.webhook_handler", 512, 120)
)
WORKER = FcContext(
    "1-worker", FunctionMeta("voicescribe-worker", "entrypoints.fc.worker_handler", 1024, 900)
)


@dataclass
class Cloud:
    telegram: TelegramFake
    tablestore: FakeTablestore
    mns: MnsFake
    dashscope: FakeDashScope


@pytest.fixture
def cloud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, telegram_fake: TelegramFake
) -> Iterator[Cloud]:
    """The alibaba profile on the fakes, in this process's environment (where FC puts a
    function's variables), and a fresh FC runtime before and after."""
    with prepared_cloud() as (tablestore, mns), FakeDashScope(api_key=DASHSCOPE_KEY) as dashscope:
        dashscope.transcript = lambda request: TRANSCRIPT
        env = alibaba_env(
            tmp_path / "var",
            tablestore,
            mns,
            dashscope,
            TELEGRAM_BOT_TOKEN=telegram_fake.token,
            TELEGRAM_API_BASE_URL=telegram_fake.api_base_url,
            TELEGRAM_WEBHOOK_SECRET=SECRET,
        )
        wanted = clean_environment(**env)
        for name in list(os.environ):
            if name not in wanted:
                monkeypatch.delenv(name)
        for name, value in wanted.items():
            monkeypatch.setenv(name, value)
        fc.reset_for_tests()
        try:
            yield Cloud(telegram_fake, tablestore, mns, dashscope)
        finally:
            fc.reset_for_tests()  # before the fakes stop: closing talks to nobody after


# --- events as FC 3.0 sends them --------------------------------------------------------


def http_event(
    body: bytes | dict[str, object],
    *,
    secret: str | None = SECRET,
    method: str = "POST",
    path: str = WEBHOOK_PATH,
    base64_body: bool = False,
) -> bytes:
    """An HTTP trigger's request struct for a call like Telegram's."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Content-Length": str(len(raw)),
               "Accept-Encoding": "gzip, deflate", "X-Forwarded-Proto": "https"}  # fmt: skip
    if secret is not None:
        headers[SECRET_HEADER] = secret
    event = {
        "version": "v1",
        "rawPath": path,
        "body": base64.b64encode(raw).decode() if base64_body else raw.decode(),
        "isBase64Encoded": base64_body,
        "headers": headers,
        "queryParameters": {},
        "requestContext": {
            "accountId": "1234567890123456",
            "domainName": "voicescribe-webhook-abcdefgh.cn-hangzhou.fcapp.run",
            "domainPrefix": "voicescribe-webhook-abcdefgh",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "91.108.6.1",
                "userAgent": "",
            },
            "requestId": f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}",
            "time": "2025-06-18T06:41:11Z",
            "timeEpoch": "1750228871895",
        },
    }
    return json.dumps(event).encode()


def timer_event() -> bytes:
    trigger = {"triggerTime": "2025-06-18T06:42:00Z", "triggerName": "drain-every-minute"}
    return json.dumps({**trigger, "payload": "drain"}).encode()


def eventbridge_takes(mns: MnsFake) -> list[str]:
    """What EventBridge does for an MNS queue trigger: receive every message, delete it
    from the queue, and pass its body on, base64-decoded (``IsBase64Decode: true``)."""
    queue = Account(mns.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET).get_queue(QUEUE)
    queue.set_encoding(False)
    bodies: list[str] = []
    while True:
        try:
            message = queue.receive_message(0)
        except MNSExceptionBase as error:
            if error.type == "MessageNotExist":
                return bodies
            raise
        queue.delete_message(message.receipt_handle)
        bodies.append(base64.b64decode(message.message_body).decode())


def mns_event(bodies: list[str]) -> bytes:
    """An event-streaming batch of CloudEvents, one per message."""
    return json.dumps(
        [
            {
                "id": str(uuid.uuid4()),
                "source": "MNS-voicescribe-worker-jobs",
                "specversion": "1.0",
                "type": "mns:Queue:SendMessage",
                "datacontenttype": "application/json; charset=utf-8",
                "subject": f"acs:mns:cn-hangzhou:1234567890123456:queues/{QUEUE}",
                "time": "2025-06-18T06:41:12.093Z",
                "aliyunaccountid": "1234567890123456",
                "aliyunpublishtime": "2025-06-18T06:41:12.367Z",
                "aliyuneventbusname": "MNS-voicescribe-worker-jobs",
                "aliyunregionid": "cn-hangzhou",
                "data": {
                    "requestId": uuid.uuid4().hex[:24].upper(),
                    "messageId": uuid.uuid4().hex.upper(),
                    "messageBody": body,
                },
            }
            for body in bodies
        ]
    ).encode()


# --- helpers ----------------------------------------------------------------------------


def webhook(event: bytes) -> dict[str, object]:
    return fc.webhook_handler(event, WEBHOOK)


def transcripts(telegram: TelegramFake) -> list[str]:
    return [m.plain_text for m in telegram.sent_messages(USER) if MARK in m.plain_text]


def messages_showing(telegram: TelegramFake, words: str) -> list[SentMessage]:
    """The user's messages that showed ``words`` at some point (sent so, or edited to)."""
    return [
        message
        for message in telegram.sent_messages(USER)
        if any(words in text for text in [*message.history, message.plain_text])
    ]


def account(tablestore: FakeTablestore) -> MinutesAccount:
    async def read() -> MinutesAccount | None:
        async with TablestoreConnection(
            tablestore.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET, tablestore.instance
        ) as connection:
            return await TablestoreAccountRepository(connection).get(USER)

    found = asyncio.run(read())
    assert found is not None, "the user has an account"
    return found


def assert_charged_once(tablestore: FakeTablestore, minutes: int) -> None:
    charged = account(tablestore)
    assert (charged.spent, charged.reserved) == (minutes, 0)
    assert charged.balance == TRIAL_MINUTES - minutes


def voice_note(seconds: float) -> bytes:
    """The sample voice note, repeated to about ``seconds`` long (OGG/Opus)."""
    rate = 48_000
    speech = decode((SAMPLES / "en-weather.ogg").read_bytes(), rate)
    repeated = np.tile(speech, int(np.ceil(seconds * rate / speech.size)))[: int(seconds * rate)]
    return encode(repeated.astype(np.float32), rate, "ogg", "libopus")


def send_voice(cloud: Cloud, seconds: int, data: bytes) -> dict[str, object]:
    """The user sends a voice note; Telegram calls the webhook with its update."""
    file_id = cloud.telegram.register_file(data, f"unique-{seconds}s")
    update = cloud.telegram.push_voice(USER, USER, file_id, duration=seconds)
    return webhook(http_event(update))


# --- webhook function --------------------------------------------------------------------


@pytest.mark.parametrize("base64_body", [False, True])
def test_start_is_answered_before_the_invocation_returns(cloud: Cloud, base64_body: bool) -> None:
    update = cloud.telegram.push_text(USER, USER, "/start", update_id=7001)

    response = webhook(http_event(update, base64_body=base64_body))

    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is False
    [answer] = cloud.telegram.sent_messages(USER)  # already there: no waiting after return
    assert answer.plain_text.strip()


def test_the_initializer_refuses_to_start_without_the_webhook_secret(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET")
    fc.reset_for_tests()
    with pytest.raises(ConfigurationError, match="TELEGRAM_WEBHOOK_SECRET"):
        fc.initializer(WEBHOOK)


def test_concurrent_invocations_each_return_only_once_their_update_is_answered(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FC may run several invocations on one instance at once. With one handling worker
    the later invocations start none of their own: each must still wait for its update."""
    monkeypatch.setenv("WEBHOOK_CONCURRENCY", "1")
    fc.reset_for_tests()
    fc.initializer(WEBHOOK)
    cloud.telegram.set_latency("sendMessage", 0.4)
    users = [USER + i for i in range(1, 5)]
    updates = [cloud.telegram.push_text(u, u, "/start", update_id=7100 + u) for u in users]

    def invoke(update: dict[str, object]) -> tuple[int, bool]:
        time.sleep(0.1 * updates.index(update))  # each arrives while the one before is handled
        response = webhook(http_event(update))
        chat = update["message"]["chat"]["id"]  # type: ignore[index]
        return int(response["statusCode"]), bool(cloud.telegram.sent_messages(chat))

    with concurrent.futures.ThreadPoolExecutor(len(updates)) as pool:
        outcomes = list(pool.map(invoke, updates))

    assert outcomes == [(200, True)] * len(updates), "an invocation returned before its answer"


@pytest.mark.parametrize("secret", [None, "wrong-secret", SECRET + "x"])
def test_a_wrong_secret_is_refused_with_403_and_claims_nothing(
    cloud: Cloud, secret: str | None
) -> None:
    update = cloud.telegram.push_text(USER, USER, "/start", update_id=7002)

    assert webhook(http_event(update, secret=secret))["statusCode"] == 403
    assert cloud.telegram.sent_messages(USER) == []

    assert webhook(http_event(update))["statusCode"] == 200, "the update was not claimed"
    assert len(cloud.telegram.sent_messages(USER)) == 1


def test_a_replayed_update_is_acknowledged_and_processed_once(cloud: Cloud) -> None:
    update = cloud.telegram.push_text(USER, USER, "/help", update_id=7003)

    first = webhook(http_event(update))
    replay = webhook(http_event(update))

    assert (first["statusCode"], replay["statusCode"]) == (200, 200)
    assert len(cloud.telegram.sent_messages(USER)) == 1


def test_the_instance_keeps_one_runtime_across_invocations(cloud: Cloud) -> None:
    fc.initializer(WEBHOOK)
    built = fc.runtime()

    health = webhook(http_event(b"", method="GET", path="/healthz", secret=None))
    update = cloud.telegram.push_text(USER, USER, "/start", update_id=7004)
    webhook(http_event(update))

    assert health["statusCode"] == 200 and json.loads(str(health["body"]))["status"] == "ok"
    assert fc.runtime() is built
    assert fc.runtime().container is built.container


def test_a_malformed_event_is_answered_400(cloud: Cloud) -> None:
    broken = json.loads(http_event({"update_id": 1}, base64_body=True))
    broken["body"] = "*** not base64 ***"
    assert webhook(json.dumps(broken).encode())["statusCode"] == 400


def test_a_short_voice_note_is_transcribed_within_the_invocation(cloud: Cloud) -> None:
    response = send_voice(cloud, 10, (SAMPLES / "en-weather.ogg").read_bytes())

    assert response["statusCode"] == 200
    [text] = transcripts(cloud.telegram)  # delivered before the handler returned
    assert TRANSCRIPT in text
    assert cloud.mns.depth(QUEUE) == 0, "short audio never touches the queue"
    assert [r.kind for r in cloud.dashscope.requests] == ["asr"]
    assert_charged_once(cloud.tablestore, 1)


# --- webhook + worker functions --------------------------------------------------------


@pytest.fixture(scope="module")
def ninety_seconds() -> bytes:
    return voice_note(90)


def queued_voice_note(cloud: Cloud, data: bytes) -> None:
    """A 90 s voice note through the webhook: queued on MNS, nothing transcribed yet."""
    assert send_voice(cloud, 90, data)["statusCode"] == 200
    assert transcripts(cloud.telegram) == []
    assert cloud.dashscope.requests == []
    assert cloud.mns.depth(QUEUE) == 1
    reserved = account(cloud.tablestore)
    assert (reserved.reserved, reserved.spent) == (2, 0), "reserved, not charged"


def test_a_long_voice_note_goes_through_mns_to_the_worker_on_the_mns_trigger(
    cloud: Cloud, ninety_seconds: bytes
) -> None:
    queued_voice_note(cloud, ninety_seconds)
    bodies = eventbridge_takes(cloud.mns)
    assert len(bodies) == 1 and cloud.mns.depth(QUEUE) == 0
    event = mns_event(bodies)

    summary = json.loads(fc.worker_handler(event, WORKER))

    assert summary["trigger"] == "mns"
    assert list(summary["delivered"].values()) == ["settled"]
    [text] = transcripts(cloud.telegram)
    assert TRANSCRIPT in text
    assert_charged_once(cloud.tablestore, 2)
    [job_id] = summary["delivered"]
    assert stored_job(cloud.tablestore, job_id)["status"] == "delivered"

    fc.worker_handler(event, WORKER)  # EventBridge delivers the same batch again

    assert len(transcripts(cloud.telegram)) == 1, "answered once"
    assert_charged_once(cloud.tablestore, 2)
    assert len([r for r in cloud.dashscope.requests if r.kind == "asr"]) == 1


def test_a_long_voice_note_goes_through_mns_to_the_worker_on_the_timer(
    cloud: Cloud, ninety_seconds: bytes
) -> None:
    queued_voice_note(cloud, ninety_seconds)

    summary = json.loads(fc.worker_handler(timer_event(), WORKER))

    assert (summary["trigger"], summary["drained"], summary["delivered"]) == ("timer", 1, {})
    assert summary["swept"] == {"requeued": 0, "failed": 0}, "a fresh job is nobody's to sweep"
    [text] = transcripts(cloud.telegram)
    assert TRANSCRIPT in text
    assert cloud.mns.depth(QUEUE) == 0, "acknowledged once settled"
    assert_charged_once(cloud.tablestore, 2)

    again = json.loads(fc.worker_handler(timer_event(), WORKER))  # the next minute

    assert again["drained"] == 0
    assert len(transcripts(cloud.telegram)) == 1
    assert_charged_once(cloud.tablestore, 2)


def test_a_provider_outage_puts_the_delivered_job_back_with_a_delay_until_it_passes(
    cloud: Cloud, ninety_seconds: bytes
) -> None:
    queued_voice_note(cloud, ninety_seconds)
    event = mns_event(eventbridge_takes(cloud.mns))
    cloud.dashscope.queue_asr(*[SERVER_ERROR] * ASR_TRIES)  # DashScope down for one attempt

    summary = json.loads(fc.worker_handler(event, WORKER))

    assert list(summary["delivered"].values()) == ["settled"], "put back, not failed"
    assert transcripts(cloud.telegram) == []
    assert cloud.mns.depth(QUEUE) == 1, "back on the queue, hidden for the delay"
    held = account(cloud.tablestore)
    assert (held.reserved, held.spent) == (2, 0), "still reserved: nothing charged, nothing lost"
    assert stored_job(cloud.tablestore, event_job_id(event))["status"] != "failed"
    told = messages_showing(cloud.telegram, "as soon as the service is back")
    assert len(told) == 1, "the user hears once that the note is delayed"

    real_clock = cloud.mns.clock
    cloud.mns.clock = lambda: real_clock() + 600  # the delay has passed
    cloud.mns.wake()
    again = json.loads(fc.worker_handler(timer_event(), WORKER))

    assert again["drained"] == 1
    assert len(transcripts(cloud.telegram)) == 1
    assert_charged_once(cloud.tablestore, 2)


def event_job_id(event: bytes) -> str:
    [record] = json.loads(event)
    return str(json.loads(record["data"]["messageBody"])["job_id"])


def test_the_timer_sweeps_back_a_job_whose_delivery_was_lost(
    cloud: Cloud, ninety_seconds: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    queued_voice_note(cloud, ninety_seconds)
    eventbridge_takes(cloud.mns)  # taken off the queue, and the invocation never comes
    # long ago, that is
    monkeypatch.setattr(Settings, "stale_after_seconds", property(lambda settings: 0.0))

    summary = json.loads(fc.worker_handler(timer_event(), WORKER))

    assert summary["swept"] == {"requeued": 1, "failed": 0}
    assert summary["drained"] == 1
    [text] = transcripts(cloud.telegram)
    assert TRANSCRIPT in text
    assert_charged_once(cloud.tablestore, 2)


# --- the worker's event formats ----------------------------------------------------------

JOB_MESSAGE = base64.b64decode(encode_job("tg:1:2")).decode()  # the body, base64-decoded


def cloud_event(body: object) -> dict[str, object]:
    data = {"messageId": "M", "messageBody": body}
    return {"id": "1", "source": "MNS-jobs", "type": "mns:Queue:SendMessage", "data": data}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (timer_event(), WorkerEvent(Trigger.TIMER)),
        (b"", WorkerEvent(Trigger.DIRECT)),  # `s invoke` without an event
        (b"{}", WorkerEvent(Trigger.DIRECT)),
        (b"not json", WorkerEvent(Trigger.DIRECT)),
        # event-streaming, CloudEvents, Base64 decoding on (deploy/s.yaml)
        (json.dumps([cloud_event(JOB_MESSAGE)]).encode(), WorkerEvent(Trigger.MNS, ("tg:1:2",))),
        # Base64 decoding off: the wire body as sent
        (json.dumps([cloud_event(encode_job("tg:1:2"))]), WorkerEvent(Trigger.MNS, ("tg:1:2",))),
        # event-driven mode: one CloudEvent, not a list
        (json.dumps(cloud_event(JOB_MESSAGE)), WorkerEvent(Trigger.MNS, ("tg:1:2",))),
        # RawData schema: only the data records
        (json.dumps([{"messageBody": JOB_MESSAGE}]), WorkerEvent(Trigger.MNS, ("tg:1:2",))),
        # the JSON body parsed into an object on the way
        (json.dumps([cloud_event(json.loads(JOB_MESSAGE))]), WorkerEvent(Trigger.MNS, ("tg:1:2",))),
        # a batch with the same job twice and a message that is not ours
        (
            json.dumps([cloud_event(JOB_MESSAGE), cloud_event(JOB_MESSAGE), cloud_event("hi")]),
            WorkerEvent(Trigger.MNS, ("tg:1:2",), undecodable=1),
        ),
    ],
)
def test_worker_events_are_read_in_every_form_fc_may_deliver(
    event: bytes | str, expected: WorkerEvent
) -> None:
    assert parse_worker_event(event) == expected
