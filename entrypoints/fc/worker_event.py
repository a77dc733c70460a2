"""What the worker function's triggers send, parsed, and what an invocation reports.

Why two paths. A timer trigger (``{"triggerTime", "triggerName", "payload"}``) only says
"now": the worker sweeps (jobs whose claim ran out long ago, e.g. a webhook instance that
died mid-job, go back on the queue) and drains MNS with ``QueueConsumer.consume_one``,
which hides a message while its job runs and deletes it only once the job is settled.
An MNS queue trigger is different: EventBridge receives the messages itself, deletes
them from the queue and hands their bodies to the function (one CloudEvent, or a batch of
them in event-streaming mode; each ``data.messageBody`` base64-decoded unless the trigger
says otherwise). Those jobs are no longer in the queue, so the worker runs them directly,
and EventBridge's delivery takes the queue's place: a job that is not settled when the
invocation ends (left for a retry, or not started for lack of time) makes the invocation
fail, so EventBridge delivers the batch again after its back-off; the jobs of the batch
that were settled are no-ops the second time (a finished job is left alone).

Never half-done: a job is started only while at least ``reserve_seconds`` remain before
the function's timeout, and nothing is left running when the invocation returns.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import attrs

from application.handlers.sweeper import SweepOutcome
from infrastructure.mns.body import UndecodableBody, decode_job

log = logging.getLogger(__name__)


class Trigger(StrEnum):
    TIMER = "timer"
    MNS = "mns"
    DIRECT = "direct"  # anything else (a console test, ``s invoke``): drain the queue


class Outcome(StrEnum):
    SETTLED = "settled"  # delivered, failed or no speech: nothing more to do
    MISSING = "missing"  # the job is not stored: nothing to do either
    RETRY = "retry"  # a transient failure with attempts left
    NOT_STARTED = "not_started"  # too little time left to start it
    ERROR = "error"  # an unexpected failure (logged)


@attrs.frozen
class WorkerEvent:
    trigger: Trigger
    job_ids: tuple[str, ...] = ()
    undecodable: int = 0


class JobsNotSettled(Exception):
    """Jobs EventBridge delivered are not finished: fail the invocation so it delivers
    them again (the queue no longer holds them)."""


@attrs.frozen
class WorkerSummary:
    trigger: Trigger
    delivered: Mapping[str, Outcome]
    drained: int
    swept: SweepOutcome | None = None

    def unsettled(self) -> list[str]:
        done = (Outcome.SETTLED, Outcome.MISSING)
        return [job_id for job_id, outcome in self.delivered.items() if outcome not in done]

    def to_json(self) -> str:
        return json.dumps(
            {
                "trigger": self.trigger.value,
                "delivered": {job: outcome.value for job, outcome in self.delivered.items()},
                "drained": self.drained,
                "swept": attrs.asdict(self.swept) if self.swept else None,
            }
        )


class Deadline:
    """When the invocation must be over, on the monotonic clock."""

    def __init__(self, seconds: float, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._at = clock() + seconds

    def remaining(self) -> float:
        return float(self._at - self._clock())


def parse_worker_event(event: bytes | str | Mapping[str, Any] | Sequence[Any]) -> WorkerEvent:
    """What the worker was invoked for; never raises (an unknown event means: drain)."""
    data: Any = event
    if isinstance(event, bytes | str):
        try:
            data = json.loads(event) if event.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            log.warning("worker event is not JSON; draining the queue: %.200r", event)
            return WorkerEvent(Trigger.DIRECT)
    if isinstance(data, Mapping) and "triggerTime" in data:
        return WorkerEvent(Trigger.TIMER)
    records = data if isinstance(data, list) else [data]
    bodies = [body for body in map(_message_body, records) if body is not None]
    if not bodies:
        return WorkerEvent(Trigger.DIRECT)
    job_ids: list[str] = []
    undecodable = 0
    for body in bodies:
        try:
            job_id = job_id_from_body(body)
        except UndecodableBody as error:
            log.error("MNS trigger delivered a message that is not a job; dropped: %s", error)
            undecodable += 1
            continue
        if job_id not in job_ids:
            job_ids.append(job_id)
    return WorkerEvent(Trigger.MNS, tuple(job_ids), undecodable)


def job_id_from_body(body: str | Mapping[str, Any]) -> str:
    """The job id in a message body as EventBridge hands it over: the job message JSON
    (Base64 decoding on, the default) or its base64 wire form (decoding off). Raises
    UndecodableBody."""
    text = json.dumps(body) if isinstance(body, Mapping) else body
    try:
        return decode_job(text)
    except UndecodableBody:
        return decode_job(base64.b64encode(text.encode("utf-8")))


def _message_body(record: Any) -> str | Mapping[str, Any] | None:
    """``data.messageBody`` of a CloudEvent, or ``messageBody`` of a RawData record."""
    if not isinstance(record, Mapping):
        return None
    data = record.get("data", record)
    if isinstance(data, str):  # some deliveries carry ``data`` as a JSON string
        try:
            data = json.loads(data)
        except json.JSONDecodeError:
            return None
    if not isinstance(data, Mapping):
        return None
    body = data.get("messageBody")
    return body if isinstance(body, str | Mapping) else None
