"""The owner's commands. Checked on every call: anyone else gets exactly the answer an
unknown command gets, so the commands' existence is not revealed.

A reply that fails raises, so the inbox retries the update. Every command but ``/credit``
is harmless done twice (a refund is recorded once per charge, a flush finds nothing
left); a ``/credit`` remembers, for this process, the commands it granted, so a retry
after a lost reply answers without granting again."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InputFile, Update
from telegram.ext import Application as PtbApplication
from telegram.ext import CommandHandler, ContextTypes, filters

from application.bootstrap import UseCases
from application.commands import FlushStuckJobs, GrantMinutes, RefundPayment
from application.handlers.billing import RefundRefusal
from application.views import Table
from domain.jobs import VoiceJob
from entrypoints.telegram.texts import text

Context = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]
DEFAULT_STUCK_MINUTES = 30
LARGEST_ID = 2**63 - 1  # Telegram's user ids fit in 64 bits; so do the stores' integers
MAX_GRANT_MINUTES = 1_000_000
MAX_FLUSH_MINUTES = 365 * 24 * 60


def parse_bounded(argument: str, largest: int) -> int | None:
    """A whole number from 1 to ``largest`` written in ASCII digits, else ``None``: an
    owner's typo (``abc``, ``-5``, ``²``, 23 digits) gets the usage line, not a traceback."""
    if not argument.isascii() or not argument.isdigit() or len(argument) > len(str(largest)):
        return None
    value = int(argument)
    return value if 1 <= value <= largest else None


class AdminHandlers:
    def __init__(self, app: UseCases, owner_id: int) -> None:
        self._app = app
        self._owner_id = owner_id
        self._granted: dict[tuple[int, int], int] = {}  # (chat, message) -> balance after

    def register(self, ptb: PtbApplication) -> None:  # type: ignore[type-arg]
        commands: dict[str, Handler] = {
            "stat": self.stat,
            "credit": self.credit,
            "user": self.user,
            "jobs": self.jobs,
            "flush": self.flush,
            "refund": self.refund,
            "export": self.export,
        }
        new_only = filters.UpdateType.MESSAGE  # an edited /credit must not grant again
        for name, handler in commands.items():
            ptb.add_handler(CommandHandler(name, self._owner_only(handler), filters=new_only))

    def _owner_only(self, handler: Handler) -> Handler:
        async def guarded(update: Update, context: Context) -> None:
            user, message = update.effective_user, update.effective_message
            if message is None:
                return
            if user is None or self._owner_id <= 0 or user.id != self._owner_id:
                language = user.language_code if user is not None else None
                await message.reply_text(text("unknown_command", language))
                return
            await handler(update, context)

        return guarded

    async def stat(self, update: Update, context: Context) -> None:
        s = await self._app.reports.stats()
        await _say(
            update,
            (
                f"users: {s.users}\njobs: {s.jobs_today} today, {s.jobs_week} in 7 days\n"
                f"minutes: {s.minutes_today} today, {s.minutes_week} in 7 days\n"
                f"failures (7 days): {s.failures_week}\n"
                f"refusals (7 days, the user's doing): {s.refusals_week}\n"
                f"stars: {s.stars_today} today, {s.stars_week} in 7 days"
            ),
        )

    async def credit(self, update: Update, context: Context) -> None:
        args = context.args or []
        user_id = parse_bounded(args[0], LARGEST_ID) if len(args) == 2 else None
        minutes = parse_bounded(args[1], MAX_GRANT_MINUTES) if len(args) == 2 else None
        if user_id is None or minutes is None:
            await _say(update, f"usage: /credit USER_ID MINUTES (1 to {MAX_GRANT_MINUTES})")
            return
        message = update.effective_message
        key = (message.chat_id, message.message_id) if message is not None else None
        balance = self._granted.get(key) if key is not None else None
        if balance is None:
            balance = await self._app.bus.handle(GrantMinutes(user_id, minutes))
            if key is not None:
                self._granted[key] = balance
        await _say(update, f"credited {minutes} min to {user_id}; balance {balance}")
        if key is not None:
            self._granted.pop(key, None)

    async def user(self, update: Update, context: Context) -> None:
        args = context.args or []
        user_id = parse_bounded(args[0], LARGEST_ID) if len(args) == 1 else None
        if user_id is None:
            await _say(update, "usage: /user USER_ID")
            return
        account, jobs = await self._app.reports.user(user_id)
        if account is None:
            await _say(update, f"no account for {args[0]}")
            return
        lines = [
            f"user {account.user_id}: balance {account.balance}, reserved {account.reserved}, "
            f"spent {account.spent}, purchased {account.purchased}, granted {account.granted}, "
            f"refunded {account.refunded}",
            *(_job_line(j) for j in jobs),
        ]
        await _say(update, "\n".join(lines))

    async def jobs(self, update: Update, context: Context) -> None:
        troubles = await self._app.reports.troubled_jobs(DEFAULT_STUCK_MINUTES * 60)
        listing = "\n".join(_job_line(j) for j in troubles.jobs) or "no stuck or failed jobs"
        refusals = f"\n({troubles.refusals_week} refusals in 7 days, not listed)"
        await _say(update, listing + (refusals if troubles.refusals_week else ""))

    async def flush(self, update: Update, context: Context) -> None:
        args = context.args or []
        given = parse_bounded(args[0], MAX_FLUSH_MINUTES) if args else None
        minutes = given or DEFAULT_STUCK_MINUTES
        outcome = await self._app.bus.handle(FlushStuckJobs(older_than_seconds=minutes * 60))
        await _say(
            update, f"flushed {outcome.jobs} job(s), released {outcome.minutes_released} min"
        )

    async def refund(self, update: Update, context: Context) -> None:
        args = context.args or []
        if len(args) != 1:
            await _say(update, "usage: /refund CHARGE_ID")
            return
        outcome = await self._app.bus.handle(RefundPayment(args[0]))
        if outcome.refunded:
            await _say(update, f"refunded; {outcome.minutes_taken} min taken back")
        elif outcome.already_refunded:
            await _say(
                update,
                f"already refunded earlier ({outcome.minutes_taken} min were taken back); "
                "nothing done now",
            )
        elif outcome.refusal is RefundRefusal.MINUTES_RESERVED:
            await _say(
                update,
                f"not refunded yet: the user has {outcome.minutes_reserved} min reserved for "
                "jobs in progress, and a refund takes back only free minutes. Nothing was "
                "refunded; /refund again once the jobs finish (or /flush stuck ones).",
            )
        else:
            await _say(update, f"not refunded: {outcome.reason}")

    async def export(self, update: Update, context: Context) -> None:
        args = context.args or []
        table = args[0] if args else ""
        if table not in ("users", "jobs", "payments"):
            await _say(update, "usage: /export users|jobs|payments")
            return
        content = render_csv(await self._app.reports.export(table))
        message = update.effective_message
        if message is not None:
            stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
            document = InputFile(content.encode("utf-8"), filename=f"{table}-{stamp}.csv")
            await message.reply_document(document)


def render_csv(table: Table) -> str:
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow(table.columns)
    out.writerows(table.rows)
    return buffer.getvalue()


def _job_line(job: VoiceJob) -> str:
    when = time.strftime("%m-%d %H:%M", time.gmtime(job.created_at))
    error = f" ({job.error})" if job.error else ""
    return f"{when} {job.job_id} {job.status.value} {job.duration_seconds:.0f}s{error}"


async def _say(update: Update, reply: str) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(reply[:4000])
