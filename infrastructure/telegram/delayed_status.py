"""The status message of a quick note, shown only if its answer is late.

Why: a short note is usually answered within a second or two; a status message sent at
once, edited and deleted then costs three or four Bot API calls and a flicker, and every
call counts against Telegram's limits (20 messages a minute in a group). So for a note
processed in the update's own handling (inline: ``applies_to``), the handler asks for
its status ``show_later``: it is sent only if ``STATUS_DELAY_SECONDS`` pass before the
answer (or a notice) goes out. Until then the job's progress shows nothing (nothing is
on screen to edit, and a chat action is a call too); once shown, the status is the job's
status message as ever (``TelegramMessenger`` edits it, then deletes it under the answer).

A status still waiting when the answer comes is cancelled; one on the wire is waited for
and handed to the job, so the answer never lands before a status that stays behind. A
heads-up (the low balance) is a message of its own and changes nothing here. A job that
goes on the queue after all (a retry) keeps the status only if it was shown.

It wraps any ``Messenger`` and leaves its behaviour alone otherwise: whatever the wrapped
messenger does with a status message, it does with one shown late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telegram import Message

from application.notices import Notice
from application.ports import Messenger
from application.progress import Progress
from domain.jobs import VoiceJob
from infrastructure.telegram.messenger import HEADS_UPS

log = logging.getLogger(__name__)

ShowStatus = Callable[[], Awaitable[Message | None]]


@dataclass
class _Pending:
    task: asyncio.Task[Message | None]
    sending: bool = False  # the delay is over: the status is on its way
    job: VoiceJob | None = None  # the live job, once the processing reported on it
    shown: Message | None = field(default=None)


class DelayedStatus:
    """A ``Messenger`` that holds back quick notes' status messages (module docstring)."""

    def __init__(
        self, inner: Messenger, *, delay_seconds: float, inline_up_to_seconds: float
    ) -> None:
        """``delay_seconds``: how long a quick note may go without a status (0: at once,
        as before); ``inline_up_to_seconds``: the longest note processed inline (the
        sync threshold), beyond which the status is shown at once."""
        self._inner = inner
        self._delay = delay_seconds
        self._inline_up_to = inline_up_to_seconds
        self._pending: dict[str, _Pending] = {}

    def applies_to(self, duration_seconds: float | None, defer_seconds: float) -> bool:
        """Whether a note's status may wait: one said to be short enough to be processed
        inline and not held back by the rate limit."""
        return (
            self._delay > 0
            and duration_seconds is not None
            and duration_seconds <= self._inline_up_to
            and defer_seconds <= 0
        )

    def show_later(self, job_id: str, show: ShowStatus) -> None:
        """Send the status with ``show`` once the delay passes, unless the job is answered
        first."""
        task = asyncio.create_task(self._show_after_delay(job_id, show))
        self._pending[job_id] = _Pending(task)

    async def _show_after_delay(self, job_id: str, show: ShowStatus) -> Message | None:
        await asyncio.sleep(self._delay)
        pending = self._pending.get(job_id)
        if pending is not None:
            pending.sending = True
        shown = await show()
        if pending is not None:
            pending.shown = shown
            if shown is not None and pending.job is not None:
                pending.job.status_message_id = shown.message_id
        return shown

    async def settle(self, job_id: str) -> Message | None:
        """Stop waiting for the job: the status shown, if it was (awaited if on its way);
        a status still waiting is cancelled and never sent."""
        pending = self._pending.pop(job_id, None)
        if pending is None:
            return None
        if not pending.sending:
            pending.task.cancel()
            return None
        try:
            return await asyncio.shield(pending.task)
        except Exception:
            log.info("status of job %s not shown", job_id, exc_info=True)
            return None

    async def _answering(self, job: VoiceJob) -> None:
        """The answer goes out now: no status any more unless it was shown."""
        if job.job_id not in self._pending:
            return
        shown = await self.settle(job.job_id)
        if shown is not None and job.status_message_id is None:
            job.status_message_id = shown.message_id

    async def report_progress(self, job: VoiceJob, progress: Progress) -> None:
        pending = self._pending.get(job.job_id)
        if pending is not None:
            pending.job = job
            if pending.shown is None:
                return  # nothing on screen yet: no edit, no chat action
            if job.status_message_id is None:
                job.status_message_id = pending.shown.message_id
        await self._inner.report_progress(job, progress)

    async def deliver(self, job: VoiceJob, text: str) -> None:
        await self._answering(job)
        await self._inner.deliver(job, text)

    async def notify(self, job: VoiceJob, notice: Notice) -> None:
        if notice.reason not in HEADS_UPS:
            await self._answering(job)
        await self._inner.notify(job, notice)
