"""What one Function Compute instance keeps between invocations.

One event loop per instance. The container's adapters hold connections and the bot's
HTTP client, which belong to the loop they were first used on, and FC reuses instances;
``asyncio.run`` per call would leave them tied to a closed loop. So the loop runs for
the instance's whole life in a daemon thread, and each (synchronous) handler submits
its coroutine to it and waits. Between invocations FC freezes the process, loop
included; it resumes where it was on the next one.

Credentials. A function with a role gets the role's temporary STS credentials, in the
environment at start (``ALIBABA_CLOUD_*``, read by the settings) and, current, in each
invocation's ``context.credentials``; an instance outlives them, so every handler passes
its context to ``use_credentials_of`` and Tablestore and MNS sign the next request with
them. Configured static keys (``ALIBABA_ACCESS_KEY_ID``) are left as they are.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from application.bootstrap import UseCases
from application.inbox import Inbox
from entrypoints.composition.container import Channel, Container, build_container
from entrypoints.composition.settings import ConfigurationError, Settings, load_settings
from entrypoints.fc.http_event import AsgiApp, AsgiLifespan
from entrypoints.http.app import create_webhook_app
from infrastructure.cloud_credentials import AccessKey
from infrastructure.mns import MnsJobQueue

log = logging.getLogger(__name__)

T = TypeVar("T")


class FcRuntime:
    """Everything one FC instance keeps between invocations: the settings, the container,
    the event loop thread, and (on first use) the webhook app or the worker's bot."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.container: Container = build_container(settings, Channel.TELEGRAM)
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

    def use_credentials_of(self, context: Any) -> None:
        """Sign from now on with the role's credentials this invocation's context carries
        (FC rotates them); nothing changes without them or with configured static keys."""
        given = getattr(context, "credentials", None)
        if given is None or self.settings.alibaba_access_key_id:
            return
        key = AccessKey(
            str(getattr(given, "access_key_id", "") or ""),
            str(getattr(given, "access_key_secret", "") or ""),
            str(getattr(given, "security_token", "") or ""),
        )
        if self.container.cloud_credentials().rotate(key):
            log.info("Alibaba Cloud credentials from the invocation's context: %r", key)

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the instance's loop and wait for it (from any thread)."""
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    async def _build(self) -> None:
        # On the loop: some adapters take the running loop when they are built.
        self.container.use_cases()
        queue = self.container.queue()
        if isinstance(queue, MnsJobQueue):
            await report_queue_visibility(queue)

    async def webhook_app(self) -> AsgiApp:
        """The webhook's ASGI app, its lifespan (the bot) started on first use."""
        async with self._ready:
            if self._webhook is None:
                app = create_webhook_app(
                    self.container,
                    self.settings.telegram_webhook_secret,
                    workers=0,
                    concurrency=self.settings.webhook_concurrency,
                )
                lifespan = AsgiLifespan(app)
                await lifespan.start()  # the bot: getMe, PTB's update fetcher
                self._webhook, self._lifespan, self._inbox = app, lifespan, app.state.inbox
            return self._webhook

    @property
    def webhook_inbox(self) -> Inbox:
        """The webhook app's inbox (``webhook_app`` first)."""
        assert self._inbox is not None, "webhook_app() builds it"
        return self._inbox

    async def worker_app(self) -> UseCases:
        """The use cases, with the bot (which delivers the text) initialized once."""
        async with self._ready:
            if not self._bot_started:
                await self.container.telegram_bot().initialize()
                self._bot_started = True
        use_cases: UseCases = self.container.use_cases()
        return use_cases

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


async def report_queue_visibility(queue: MnsJobQueue) -> None:
    """Warn at start-up when the queue hides a received message for less time than
    QUEUE_VISIBILITY_SECONDS: a running job's message would reach another worker.
    ``voicescribe setup`` corrects it."""
    seconds = await queue.visibility_timeout()
    if seconds < queue.configured_visibility_seconds:
        log.warning(
            "the MNS queue's visibility timeout is %d s, shorter than "
            "QUEUE_VISIBILITY_SECONDS (%d s): run `voicescribe setup` to correct it",
            seconds,
            queue.configured_visibility_seconds,
        )


_runtime: FcRuntime | None = None
_runtime_lock = threading.Lock()


def fc_settings() -> Settings:
    """The settings, refusing what cannot work on FC: without TELEGRAM_WEBHOOK_SECRET every
    webhook call would fail (the deployment sets it for both functions). Raises
    ConfigurationError with one line naming what is missing."""
    settings = load_settings()
    if not settings.telegram_webhook_secret:
        raise ConfigurationError(
            "configuration error: missing environment variables: TELEGRAM_WEBHOOK_SECRET"
        )
    return settings


def runtime() -> FcRuntime:
    """This instance's runtime, built on first call (normally by ``initializer``)."""
    global _runtime  # noqa: PLW0603 - one per FC instance, by design
    with _runtime_lock:
        if _runtime is None:
            if not logging.getLogger().handlers:
                logging.basicConfig(level=logging.INFO)
            _runtime = FcRuntime(fc_settings())
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
