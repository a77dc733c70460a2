"""voicescribe on Alibaba Cloud Function Compute 3.0: the webhook and the worker as functions.

Handlers (Python built-in runtime; ``deploy/s.yaml`` wires them):

- ``initializer(context)``: reads the settings from the environment and builds the DI
  container, once per instance; every invocation the instance serves reuses it.
- ``webhook_handler(event, context)``: an HTTP trigger. The event is run through the
  ``voicescribe webhook`` Starlette app (secret, size cap, ``update_id`` claim) in
  process, and the handler returns only once the bot has finished with the update.
- ``worker_handler(event, context)``: an MNS queue trigger, or a timer trigger that
  sweeps stuck jobs back onto the queue and drains it (``fc_worker``).
- ``pre_stop(context)``: closes what the instance opened before FC reclaims it.

One event loop per instance. The container's adapters hold connections and the bot's
HTTP client, which belong to the loop they were first used on, and FC reuses instances;
``asyncio.run`` per call would leave them tied to a closed loop. So the loop runs for
the instance's whole life in a daemon thread, and each (synchronous) handler submits
its coroutine to it and waits. Between invocations FC freezes the process, loop
included; it resumes where it was on the next one.

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
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from application.bootstrap import Application
from entrypoints.container import Container, build_container
from entrypoints.fc_http import (
    AsgiApp,
    AsgiLifespan,
    HttpResponse,
    NotAnHttpEvent,
    call_asgi,
    parse_http_event,
)
from entrypoints.fc_worker import (
    Deadline,
    JobsNotSettled,
    parse_worker_event,
    run_worker,
)
from entrypoints.settings import Settings, load_settings
from entrypoints.webhook import create_webhook_app
from entrypoints.webhook_inbox import Inbox

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 60.0  # when the context does not say (a local call)
WEBHOOK_MARGIN_SECONDS = 3.0  # answer this long before FC's timeout cuts the invocation
MIN_RESERVE_SECONDS = 30.0
SETTLE_HOPS = 3  # loop turns given to hand-overs (a queue put waking its getter) before looking


class FcRuntime:
    """Everything one FC instance keeps between invocations: the settings, the container,
    the event loop thread, and (on first use) the webhook app or the worker's bot."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.container: Container = build_container(settings)
        self.container.config.channel.from_value("telegram")  # answers go to Telegram
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="voicescribe-fc-loop", daemon=True
        )
        self._thread.start()
        self._ready = asyncio.Lock()
        self._webhook: AsgiApp | None = None
        self._inbox: Inbox | None = None
        self._lifespan: AsgiLifespan | None = None
        self._bot_started = False
        try:
            self.run(self._build())
        except BaseException:
            self._stop_loop()
            raise

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the instance's loop and wait for it (from any thread)."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    async def _build(self) -> None:
        # On the loop: some adapters take the running loop when they are built.
        self.container.application()

    async def webhook_app(self) -> AsgiApp:
        """The webhook's ASGI app, its lifespan (the bot) started on first use."""
        async with self._ready:
            if self._webhook is None:
                secret = self.settings.text["TELEGRAM_WEBHOOK_SECRET"]
                concurrency = int(self.settings.numbers["WEBHOOK_CONCURRENCY"])
                app = create_webhook_app(self.container, secret, workers=0, concurrency=concurrency)
                lifespan = AsgiLifespan(app)
                await lifespan.start()  # the bot: getMe, PTB's update fetcher
                self._webhook, self._lifespan, self._inbox = app, lifespan, app.state.inbox
            return self._webhook

    @property
    def webhook_inbox(self) -> Inbox:
        """The webhook app's inbox (``webhook_app`` first)."""
        assert self._inbox is not None, "webhook_app() builds it"
        return self._inbox

    async def worker_app(self) -> Application:
        """The use cases, with the bot (which delivers the text) initialized once."""
        async with self._ready:
            if not self._bot_started:
                await self.container.telegram_bot().initialize()
                self._bot_started = True
        application: Application = self.container.application()
        return application

    def close(self) -> None:
        """Stop the bot, close every adapter, end the loop. The runtime is unusable after."""
        try:
            self.run(self._close())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()

    async def _close(self) -> None:
        if self._lifespan is not None:
            await self._lifespan.stop()  # the app's own shutdown closes the adapters too
        await self.container.closing().close_all()  # what is left (a no-op after the above)


_runtime: FcRuntime | None = None
_runtime_lock = threading.Lock()


def runtime() -> FcRuntime:
    """This instance's runtime, built on first call (normally by ``initializer``)."""
    global _runtime  # noqa: PLW0603 - one per FC instance, by design
    with _runtime_lock:
        if _runtime is None:
            if not logging.getLogger().handlers:
                logging.basicConfig(level=logging.INFO)
            _runtime = FcRuntime(load_settings())
        return _runtime


def shutdown() -> None:
    """Close and forget this process's runtime; the next call builds a new one from the
    environment as it is then."""
    global _runtime
    with _runtime_lock:
        current, _runtime = _runtime, None
    if current is not None:
        current.close()


def reset_for_tests() -> None:
    """Tests change the environment between cases: start each from a fresh runtime."""
    shutdown()


# --- FC entry points ------------------------------------------------------------------


def initializer(context: Any) -> None:
    """FC instance initializer: settings and container, before the first invocation."""
    runtime()


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
    concurrency = int(current.settings.numbers["WORKER_CONCURRENCY"])

    async def work() -> str:
        app = await current.worker_app()
        summary = await run_worker(
            parsed,
            app.bus,
            app.consumer,
            deadline,
            concurrency=concurrency,
            reserve_seconds=reserve,
            stale_after_seconds=stale_after_seconds(current.settings),
        )
        log.info("worker (%s trigger): %s", parsed.trigger.value, summary.to_json())
        unsettled = summary.unsettled()
        if unsettled:
            raise JobsNotSettled(f"jobs left for another delivery: {', '.join(unsettled)}")
        return summary.to_json()

    return current.run(work())


async def finish_started_work(before: set[asyncio.Task[Any]], deadline: Deadline) -> bool:
    """Wait until every task started since ``before`` was taken has finished (the update
    PTB processes, and whatever that started), at most until ``deadline``. Returns
    whether everything finished. Why tasks: the webhook app hands the update to PTB's
    queue, whose fetcher starts one task per update; waiting on those is waiting for the
    bot's answer, without reaching into the app."""
    me = asyncio.current_task()
    while True:
        for _ in range(SETTLE_HOPS):  # let a fetcher that was just woken start its task
            await asyncio.sleep(0)
        running = {t for t in asyncio.all_tasks() if t not in before and t is not me}
        running = {t for t in running if not t.done()}
        if not running:
            return True
        remaining = deadline.remaining()
        if remaining <= 0:
            return False
        await asyncio.wait(running, timeout=remaining)


def stale_after_seconds(settings: Settings) -> float:
    """How long a job may sit untouched with no live claim before the timer's sweep takes
    it back: its lease plus one visibility timeout, as ``voicescribe worker`` does."""
    numbers = settings.numbers
    return float(numbers["JOB_LEASE_SECONDS"]) + float(numbers["QUEUE_VISIBILITY_SECONDS"])


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
