"""voicescribe on Alibaba Cloud Function Compute 3.0: the webhook and the worker as functions.

Handlers (Python built-in runtime; ``deploy/s.yaml`` wires them):

- ``initializer(context)``: reads the settings from the environment and builds the DI
  container, once per instance; every invocation the instance serves reuses it. Every
  handler hands its context's credentials (the role's, rotated) to the runtime.
- ``webhook_handler(event, context)``: an HTTP trigger. The event is run through the
  ``voicescribe webhook`` Starlette app (secret, size cap, ``update_id`` claim) in
  process, and the handler returns only once the bot has finished with the update.
- ``worker_handler(event, context)``: an MNS queue trigger, or a timer trigger that
  sweeps stuck jobs back onto the queue and drains it (``worker_invocation``).
- ``pre_stop(context)``: closes what the instance opened before FC reclaims it.

The instance's state (settings, container, its event loop) is ``runtime.FcRuntime``.

Why the webhook waits for the work. FC freezes an instance as soon as the handler
returns, so anything still running (the reply to ``/start``, a voice note being
transcribed) would stall until the next request, or die with the instance. The handler
therefore waits until every task the request started has finished and the webhook's
inbox is empty (its workers may have been started by another invocation on the same
instance), bounded by the function's timeout. Short audio (up to
``SYNC_THRESHOLD_SECONDS``) is thus transcribed and answered inside the invocation;
longer audio is only put on MNS, where the worker function takes it. Telegram gets its
200 once the update is handled: a few seconds for short audio; if it redelivers
meanwhile, the ``update_id`` claim answers 200 at once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from entrypoints.fc.http_event import HttpResponse, NotAnHttpEvent, call_asgi, parse_http_event
from entrypoints.fc.runtime import runtime, shutdown
from entrypoints.fc.worker_event import Deadline, JobsNotSettled, parse_worker_event
from entrypoints.fc.worker_invocation import run_worker

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 60.0  # when the context does not say (a local call)
WEBHOOK_MARGIN_SECONDS = 3.0  # answer this long before FC's timeout cuts the invocation
MIN_RESERVE_SECONDS = 30.0
SETTLE_HOPS = 3  # loop turns given to hand-overs (a queue put waking its getter) before looking


def initializer(context: Any) -> None:
    """FC instance initializer: settings and container, before the first invocation."""
    runtime().use_credentials_of(context)


def pre_stop(context: Any) -> None:
    """FC PreStop hook: the instance is about to be reclaimed; close what it opened."""
    shutdown()


def webhook_handler(event: bytes | str, context: Any) -> dict[str, object]:
    """HTTP trigger: Telegram's webhook call, answered once the update is handled."""
    deadline = Deadline(_time_budget(context) - WEBHOOK_MARGIN_SECONDS)
    try:
        request = parse_http_event(event)
    except NotAnHttpEvent as error:
        log.warning("webhook: %s", error)
        return HttpResponse(400).to_fc()
    current = runtime()
    current.use_credentials_of(context)

    async def serve() -> HttpResponse:
        app = await current.webhook_app()
        before = asyncio.all_tasks()
        response = await call_asgi(app, request)
        settled = await finish_started_work(before, deadline)
        # The inbox's workers may predate this request (another invocation on this
        # instance started them) and handle its update too: wait for the inbox as well.
        if not (settled and await current.webhook_inbox.drain(max(0.0, deadline.remaining()))):
            log.warning(
                "%s %s: work still running at the invocation's deadline; it resumes when "
                "this instance next runs (or is lost with it)",
                request.method,
                request.path,
            )
        return response

    return current.run(serve()).to_fc()


def worker_handler(event: bytes | str, context: Any) -> str:
    """MNS queue trigger or timer trigger: run the delivered jobs (MNS), sweep (timer),
    then drain the queue. Raises JobsNotSettled when delivered jobs are left unfinished:
    the failed invocation is what makes EventBridge deliver them again."""
    budget = _time_budget(context)
    deadline = Deadline(budget)
    reserve = max(MIN_RESERVE_SECONDS, budget / 3)
    parsed = parse_worker_event(event)
    current = runtime()
    current.use_credentials_of(context)
    concurrency = current.settings.worker_concurrency

    async def work() -> str:
        app = await current.worker_app()
        summary = await run_worker(
            parsed,
            app.bus,
            app.consumer,
            deadline,
            concurrency=concurrency,
            reserve_seconds=reserve,
            stale_after_seconds=current.settings.stale_after_seconds,
        )
        log.info("worker (%s trigger): %s", parsed.trigger.value, summary.to_json())
        unsettled = summary.unsettled()
        if unsettled:
            raise JobsNotSettled(f"jobs left for another delivery: {', '.join(unsettled)}")
        return summary.to_json()

    return current.run(work())


async def finish_started_work(before: set[asyncio.Task[Any]], deadline: Deadline) -> bool:
    """Wait until every task started since ``before`` was taken has finished (the inbox
    worker the request started, and whatever the bot's handling of the update started,
    e.g. status edits in the background), at most until ``deadline``. Returns whether
    everything finished. Why tasks: waiting on them is waiting for the bot's answer
    without reaching into the app; the inbox itself is drained separately."""
    me = asyncio.current_task()
    while True:
        for _ in range(SETTLE_HOPS):  # let a task that was just woken start its own
            await asyncio.sleep(0)
        running = {t for t in asyncio.all_tasks() if t not in before and t is not me}
        running = {t for t in running if not t.done()}
        if not running:
            return True
        remaining = deadline.remaining()
        if remaining <= 0:
            return False
        await asyncio.wait(running, timeout=remaining)


def _time_budget(context: Any) -> float:
    """Seconds this invocation may run: the context's remaining time where the runtime
    offers it, else the function's configured timeout."""
    remaining_ms = getattr(context, "get_remaining_time_in_ms", None)
    if callable(remaining_ms):
        return float(remaining_ms()) / 1000
    timeout = getattr(getattr(context, "function", None), "timeout", None)
    if isinstance(timeout, int | float) and timeout > 0:
        return float(timeout)
    return DEFAULT_TIMEOUT_SECONDS
