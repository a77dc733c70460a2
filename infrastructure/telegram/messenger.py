"""Answering the user in Telegram: one status message edited through the stages, then the
answer in the user's output mode (``domain.outputs``): the text, or the text with times,
as HTML-safe messages of at most 4096 characters; the text as a .txt document; subtitles
as a .srt or .vtt document named after the original file, after a short preview. A long
result carries a row of actions on its transcript (``action_buttons.py``: Summary, Action
items, Translate, and More for its timed outputs), in a group only when someone asked.

Progress is best effort and throttled: at most one edit per ``edit_interval_seconds``
(3 s) per chat, well under what Telegram allows; an edit that comes too soon is not lost
but sent when the chat's interval is over, with the newest text then (so a long
recording's growing draft shows up, the first chunk's text included, within one
interval). It never holds the job up: the edit is sent in the background, one after
another per job, within ``PROGRESS_TIMEOUT_SECONDS``; the transcript or notice drops the
edits not yet sent and waits for one on the wire, so a late edit can never overwrite it.
While the job can still be stopped, the status message carries the Stop button
(``stop_button.py``).
Measured in benchmark 2, awaiting progress cost each job ~25 ms and, once, a whole second.
The transcript itself is retried on 429 and network trouble and reported as
``DeliveryFailed`` otherwise. A heads-up (``HEADS_UPS``: the low balance) is a message of
its own, never an edit of the status, which the job's progress would overwrite; for a
job in a group it goes to the payer privately (minutes are never shown in a group). In a
group no progress is shown (no chat action, no status edits): Telegram allows about 20
messages a minute per group, and they are kept for the results.

An answer in several messages (the parts of a long text, or a preview then the .txt) is
counted on the job as each part goes out (``VoiceJob.parts_sent``); a delivery retried
after a part failed skips the parts already sent, so none reaches the user twice. A job
without a status message (Telegram would not take it at acceptance) is answered with new
messages only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from telegram import Bot, InlineKeyboardMarkup, InputFile, ReplyParameters
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError

from application.errors import DeliveryFailed
from application.notices import Notice, NoticeReason, describe
from application.progress import Progress
from application.wording import say
from domain.catalogue import Package
from domain.jobs import OutputMode, VoiceJob
from domain.outputs import answer, has_times, offers_stored_outputs
from domain.text import escape_html, render_messages
from domain.transcript_actions import action_handle
from infrastructure.telegram.action_buttons import action_buttons, with_timed_outputs
from infrastructure.telegram.buy_buttons import buy_buttons
from infrastructure.telegram.errors import call_telegram
from infrastructure.telegram.progress_text import progress_text
from infrastructure.telegram.stop_button import stop_button

log = logging.getLogger(__name__)

FILE_THRESHOLD = 8000
PREVIEW_CHARS = 600
PROGRESS_TIMEOUT_SECONDS = 10.0
MAX_CHATS_REMEMBERED = 4096  # chats whose next edit time is kept (past ones then pruned)
# Notices told alongside a job that goes on, not instead of its answer.
HEADS_UPS = frozenset({NoticeReason.LOW_BALANCE})


class TelegramMessenger:
    def __init__(
        self,
        bot: Bot,
        *,
        edit_interval_seconds: float = 3.0,
        file_threshold: int = FILE_THRESHOLD,
        packages: Sequence[Package] = (),
        model_actions: bool = False,
    ) -> None:
        """``packages``: what "not enough minutes" offers to buy, one button each;
        ``model_actions``: a language model is configured, so the actions that need one
        are offered under results."""
        self._model_actions = model_actions
        self._bot = bot
        self._packages = tuple(packages)
        self._edit_interval = edit_interval_seconds
        self._file_threshold = file_threshold
        self._latest: dict[str, tuple[str, bool]] = {}  # per job: newest text, Stop shown
        self._shown: dict[str, tuple[str, bool]] = {}  # per job: what was last sent
        self._next_edit_at: dict[int, float] = {}  # per chat: when its next edit may go
        self._waiting: dict[str, asyncio.Task[None]] = {}  # an edit waiting for its turn
        self._showing: dict[str, asyncio.Task[None]] = {}  # progress on its way, per job
        self._live: dict[str, set[asyncio.Task[None]]] = {}  # every unfinished edit, per job
        self._answered: set[str] = set()  # jobs whose answer waits for their last edit

    async def report_progress(self, job: VoiceJob, progress: Progress) -> None:
        if _in_group(job):
            return  # a group's ~20 messages a minute are kept for the results
        latest = (progress_text(progress, job.style.ui_language), progress.stoppable)
        if latest == self._latest.get(job.job_id, self._shown.get(job.job_id)):
            return
        self._latest[job.job_id] = latest
        if job.job_id in self._waiting:
            return  # an edit waits for the chat's turn: it will send this newest text
        now = time.monotonic()
        if len(self._next_edit_at) > MAX_CHATS_REMEMBERED:
            self._next_edit_at = {c: t for c, t in self._next_edit_at.items() if t > now}
        at = max(now, self._next_edit_at.get(job.chat_id, float("-inf")))
        self._next_edit_at[job.chat_id] = at + self._edit_interval  # the chat's turn, taken
        before = self._showing.get(job.job_id)
        shown = asyncio.create_task(self._show_progress(job, at - now, before))
        self._showing[job.job_id] = shown
        self._waiting[job.job_id] = shown
        self._live.setdefault(job.job_id, set()).add(shown)
        shown.add_done_callback(lambda done: self._forget(job.job_id, done))

    async def _show_progress(
        self, job: VoiceJob, delay: float, before: asyncio.Task[None] | None
    ) -> None:
        try:
            if before is not None:
                await asyncio.wait([before])  # in order: an older edit never lands last
            if delay > 0:
                await asyncio.sleep(delay)  # the chat's turn: at most one edit an interval
        finally:
            if self._waiting.get(job.job_id) is asyncio.current_task():
                del self._waiting[job.job_id]
        latest = self._latest.pop(job.job_id, None)
        if job.job_id in self._answered or latest is None:
            return  # the answer is on its way: this edit is stale
        self._shown[job.job_id] = latest
        text, stoppable = latest
        markup = stop_button(job.job_id, job.style.ui_language) if stoppable else None
        try:
            async with asyncio.timeout(PROGRESS_TIMEOUT_SECONDS):
                await self._bot.send_chat_action(job.chat_id, ChatAction.TYPING)
                if job.status_message_id is not None:
                    await self._bot.edit_message_text(
                        text, job.chat_id, job.status_message_id, reply_markup=markup
                    )
        except (TelegramError, TimeoutError) as error:
            log.info("progress for job %s not shown: %s", job.job_id, error or "timed out")

    def _forget(self, job_id: str, done: asyncio.Task[None]) -> None:
        if self._showing.get(job_id) is done:
            del self._showing[job_id]
        live = self._live.get(job_id)
        if live is not None:
            live.discard(done)
            if not live:
                del self._live[job_id]

    async def _progress_over(self, job: VoiceJob) -> None:
        """No progress is shown for this job any more: edits not yet sent are dropped, one
        on the wire is let finish first (it would otherwise land after the answer)."""
        self._latest.pop(job.job_id, None)
        self._shown.pop(job.job_id, None)
        waiting = self._waiting.pop(job.job_id, None)
        if waiting is not None:
            waiting.cancel()  # not sent yet: dropped, it would only be stale
        self._showing.pop(job.job_id, None)
        live = set(self._live.get(job.job_id, ()))
        if not live:
            return
        self._answered.add(job.job_id)
        try:
            await asyncio.wait(live)
        finally:
            self._answered.discard(job.job_id)

    async def deliver(self, job: VoiceJob, text: str) -> None:
        await self._progress_over(job)
        shaped = answer(
            job.style.output,
            text,
            job.recognized,
            job.duration_seconds,
            use_yo=job.style.use_yo,
        )
        body = shaped.text
        if job.source.forwarded_from:
            origin = say("forwarded_from", job.style.ui_language, name=job.source.forwarded_from)
            body = f"{origin}\n\n{body}"
        # Under the result: actions on the stored transcript (not under a group's notes
        # nobody asked for: the group did not ask for buttons either). A long recording
        # answered as text shows its timed outputs at once, not behind More.
        last_markup = None
        if not (_in_group(job) and not job.source.asked_for):
            handle = action_handle(job.job_id)
            timed_row = offers_stored_outputs(job)
            last_markup = action_buttons(
                handle,
                job.style.ui_language,
                with_model=self._model_actions,
                with_times=has_times(job.recognized) and not timed_row,
            )
            if timed_row:
                last_markup = with_timed_outputs(last_markup, handle, job.style.ui_language)
        parts: list[Callable[[], Awaitable[None]]]
        if shaped.subtitles is not None:
            subtitles, extension = shaped.subtitles, shaped.extension or "srt"
            parts = [
                lambda: self._send_preview(job, body),
                lambda: self._send_document(job, subtitles, extension, markup=last_markup),
            ]
        elif job.style.output is OutputMode.FILE or len(body) > self._file_threshold:
            parts = [
                lambda: self._send_preview(job, body),
                lambda: self._send_document(job, body, "txt", markup=last_markup),
            ]
        else:
            messages = render_messages(body, job.style.use_code_tags)
            parts = [
                self._part(job, message, index, last_markup if index == len(messages) - 1 else None)
                for index, message in enumerate(messages)
            ]
        for index, send_part in enumerate(parts):
            if index < job.parts_sent:
                continue  # out in an earlier try of this delivery
            await send_part()
            job.parts_sent = index + 1
        await self._drop_status(job)

    def _part(
        self, job: VoiceJob, html: str, index: int, markup: InlineKeyboardMarkup | None
    ) -> Callable[[], Awaitable[None]]:
        return lambda: self._send(job, html, reply=index == 0, markup=markup)

    async def notify(self, job: VoiceJob, notice: Notice) -> None:
        text = escape_html(describe(notice, job.style.ui_language))
        if notice.reason in HEADS_UPS:
            # The job goes on: its status message keeps showing progress, and the heads-up
            # is a message of its own (edited into the status, the next edit erased it);
            # in private, as it tells the payer's minutes, never to a group.
            if _in_group(job):
                await self._send_private(job.user_id, text)
            else:
                await self._send(job, text, reply=False)
            return
        await self._progress_over(job)
        if _in_group(job) and not job.source.asked_for:
            # Nobody asked (a group's note transcribed automatically): no error replies
            # in a group; the job's record keeps what happened.
            log.info("job %s in a group, not asked for: %s not posted", job.job_id, notice.reason)
            return
        buy = None
        if notice.reason is NoticeReason.INSUFFICIENT_MINUTES and self._packages:
            buy = buy_buttons(self._packages, job.style.ui_language)
        if job.status_message_id is not None:
            try:
                await self._bot.edit_message_text(
                    text, job.chat_id, job.status_message_id, reply_markup=buy
                )
                return
            except TelegramError as error:
                log.info("could not edit the status of job %s: %s", job.job_id, error)
        await self._send(job, text, reply=True, markup=buy)

    async def _send(
        self,
        job: VoiceJob,
        html: str,
        *,
        reply: bool,
        markup: InlineKeyboardMarkup | None = None,
    ) -> None:
        reply_to = None
        if reply and job.reply_to_message_id is not None:
            reply_to = ReplyParameters(job.reply_to_message_id, allow_sending_without_reply=True)
        await call_telegram(
            lambda: self._bot.send_message(
                job.chat_id,
                html,
                parse_mode=ParseMode.HTML,
                reply_parameters=reply_to,
                reply_markup=markup,
            ),
            DeliveryFailed,
            "sendMessage",
        )

    async def _send_private(self, user_id: int, html: str) -> None:
        await call_telegram(
            lambda: self._bot.send_message(user_id, html, parse_mode=ParseMode.HTML),
            DeliveryFailed,
            "sendMessage",
        )

    async def _send_preview(self, job: VoiceJob, text: str) -> None:
        preview = text[:PREVIEW_CHARS].rsplit(" ", 1)[0] if len(text) > PREVIEW_CHARS else text
        more = "…\n\n📄" if len(preview) < len(text) else "\n\n📄"
        messages = render_messages(preview, job.style.use_code_tags)
        await self._send(job, (messages[0] if messages else "") + more, reply=True)

    async def _send_document(
        self,
        job: VoiceJob,
        content: str,
        extension: str,
        *,
        markup: InlineKeyboardMarkup | None = None,
    ) -> None:
        """``content`` as a document named after the original file (``NAME.<extension>``,
        or ``transcript.<extension>`` for a file without a name, such as a voice note)."""
        stem = (job.source.file_name or "transcript").rsplit(".", 1)[0] or "transcript"
        document = InputFile(content.encode("utf-8"), filename=f"{stem}.{extension}")
        await call_telegram(
            lambda: self._bot.send_document(job.chat_id, document, reply_markup=markup),
            DeliveryFailed,
            "sendDocument",
            timeout_seconds=120,
        )

    async def _drop_status(self, job: VoiceJob) -> None:
        if job.status_message_id is None:
            return
        try:
            await self._bot.delete_message(job.chat_id, job.status_message_id)
        except TelegramError as error:
            log.info("status message of job %s stays: %s", job.job_id, error)


def _in_group(job: VoiceJob) -> bool:
    """Telegram's groups, supergroups and channels have negative ids, users positive."""
    return job.chat_id < 0
