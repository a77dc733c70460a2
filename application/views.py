"""The read models: a user's balance, the owner's statistics, listings and exports.

Queries only: nothing here changes state. The entrypoint shows them (the CSV export is
rendered by the owner's Telegram commands).
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Sequence

import attrs

from application.minutes import MinutesBook
from application.ports import AccountRepository, Clock, JobRepository, PaymentRepository
from domain.jobs import JobStatus, VoiceJob
from domain.ledger import MinutesAccount

DAY = 24 * 3600.0
SCAN_LIMIT = 100_000


@attrs.frozen
class Table:
    """An export: column names and rows of plain values."""

    columns: tuple[str, ...]
    rows: Sequence[tuple[object, ...]]


@attrs.frozen
class BalanceReport:
    balance: int
    used_this_month: int
    recent_jobs: Sequence[VoiceJob]


@attrs.frozen
class Stats:
    users: int
    jobs_today: int
    jobs_week: int
    minutes_today: int
    minutes_week: int
    failures_week: int  # the failures to look into: refusals (``VoiceJob.refused``) apart
    refusals_week: int
    stars_today: int
    stars_week: int


@attrs.frozen
class Troubles:
    """What ``/jobs`` shows: jobs to look into, and how many were refused in the week."""

    jobs: Sequence[VoiceJob]
    refusals_week: int


class Reports:
    def __init__(
        self,
        *,
        jobs: JobRepository,
        accounts: AccountRepository,
        payments: PaymentRepository,
        minutes: MinutesBook,
        clock: Clock,
    ) -> None:
        self._jobs = jobs
        self._accounts = accounts
        self._payments = payments
        self._minutes = minutes
        self._clock = clock

    async def balance(self, user_id: int, recent: int = 5) -> BalanceReport:
        jobs = await self._jobs.list_by_user(user_id, 500)
        month_start = _month_start(self._clock.now())
        used = sum(
            j.reserved_minutes
            for j in jobs
            if j.status in CHARGED_STATUSES and j.created_at >= month_start
        )
        return BalanceReport(await self._minutes.balance_of(user_id), used, jobs[:recent])

    async def stats(self) -> Stats:
        now = self._clock.now()
        week = await self._jobs.list_since(now - 7 * DAY, SCAN_LIMIT)
        today = [j for j in week if j.created_at >= now - DAY]
        payments = [
            p
            for p in await self._payments.list_since(now - 7 * DAY, SCAN_LIMIT)
            if p.refunded_at is None
        ]
        return Stats(
            users=len(await self._accounts.list_all(SCAN_LIMIT)),
            jobs_today=len(today),
            jobs_week=len(week),
            minutes_today=_charged(today),
            minutes_week=_charged(week),
            failures_week=sum(j.status is JobStatus.FAILED and not j.refused for j in week),
            refusals_week=sum(j.refused for j in week),
            stars_today=sum(p.stars for p in payments if p.paid_at >= now - DAY),
            stars_week=sum(p.stars for p in payments),
        )

    async def user(self, user_id: int) -> tuple[MinutesAccount | None, Sequence[VoiceJob]]:
        return await self._accounts.get(user_id), await self._jobs.list_by_user(user_id, 10)

    async def troubled_jobs(self, stuck_after_seconds: float) -> Troubles:
        """Stuck jobs and the week's failures; refusals (the user's doing) only counted."""
        now = self._clock.now()
        stuck = await self._jobs.list_unfinished(now - stuck_after_seconds, 50)
        week = await self._jobs.list_since(now - 7 * DAY, SCAN_LIMIT)
        failed = [j for j in week if j.status is JobStatus.FAILED and not j.refused][:50]
        return Troubles([*stuck, *failed], sum(j.refused for j in week))

    async def export(self, table: str) -> Table:
        """The rows of ``users``, ``jobs`` or ``payments``; ValueError for anything else."""
        if table == "users":
            accounts = await self._accounts.list_all(SCAN_LIMIT)
            return Table(
                ("user_id", "balance", "reserved", "spent", "trial", "purchased", "granted",
                 "refunded"),
                [(a.user_id, a.balance, a.reserved, a.spent, a.trial, a.purchased, a.granted,
                  a.refunded) for a in accounts],
            )  # fmt: skip
        if table == "jobs":
            jobs = await self._jobs.list_since(0, SCAN_LIMIT)
            return Table(
                ("job_id", "user_id", "created_at", "status", "duration_seconds",
                 "reserved_minutes", "attempts", "error"),
                [(j.job_id, j.user_id, _iso(j.created_at), j.status.value,
                  round(j.duration_seconds, 1), j.reserved_minutes, j.attempts, j.error or "")
                 for j in jobs],
            )  # fmt: skip
        if table == "payments":
            payments = await self._payments.list_since(0, SCAN_LIMIT)
            return Table(
                ("charge_id", "user_id", "package_id", "stars", "minutes", "paid_at",
                 "refunded_at"),
                [(p.charge_id, p.user_id, p.package_id, p.stars, p.minutes, _iso(p.paid_at),
                  _iso(p.refunded_at) if p.refunded_at else "") for p in payments],
            )  # fmt: skip
        raise ValueError(f"unknown export {table!r}: users, jobs or payments")


# Jobs whose ``reserved_minutes`` were charged: delivered ones, and stopped ones (their
# charge, for the chunks recognized before Stop, is what ``reserved_minutes`` holds).
CHARGED_STATUSES = frozenset({JobStatus.DELIVERED, JobStatus.CANCELLED})


def _charged(jobs: Sequence[VoiceJob]) -> int:
    return sum(j.reserved_minutes for j in jobs if j.status in CHARGED_STATUSES)


def _month_start(now: float) -> float:
    year, month = time.gmtime(now)[:2]
    return float(calendar.timegm((year, month, 1, 0, 0, 0)))


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
