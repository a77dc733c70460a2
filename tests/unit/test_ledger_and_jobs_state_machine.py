"""Random sequences of accept / reserve / deliver / fail / no-speech / redeliver / Stop on
the domain objects: the ledger's and the job lifecycle's invariants hold after every step
(a stopped job charged by ``domain.cancellation``, never more than its price)."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from domain.cancellation import cancellation_minutes
from domain.errors import IllegalTransition, InsufficientMinutes, LeaseHeld, UnknownReservation
from domain.jobs import (
    FINISHED_STATUSES,
    RUNNING_STATUSES,
    AudioSource,
    JobStatus,
    MediaKind,
    UserStyle,
    VoiceJob,
)
from domain.ledger import MinutesAccount
from domain.policies import price_minutes

LEGAL = {
    JobStatus.ACCEPTED: {
        JobStatus.QUEUED,
        JobStatus.PROCESSING,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
    },
    JobStatus.QUEUED: {JobStatus.PROCESSING, JobStatus.FAILED, JobStatus.CANCELLED},
    JobStatus.PROCESSING: {
        JobStatus.PROCESSING,
        JobStatus.DELIVERED,
        JobStatus.FAILED,
        JobStatus.NO_SPEECH,
        JobStatus.STOPPING,
    },
    # Stop pressed while it ran: its worker ends it cancelled, or it had made the whole
    # text already and delivers it.
    JobStatus.STOPPING: {
        JobStatus.STOPPING,
        JobStatus.CANCELLED,
        JobStatus.DELIVERED,
        JobStatus.FAILED,
    },
}


class MinutesAndJobs(RuleBasedStateMachine):
    jobs = Bundle("jobs")
    settled = Bundle("settled")

    @initialize(trial=st.integers(0, 30))
    def open_account(self, trial: int) -> None:
        self.account = MinutesAccount(user_id=1)
        self.account.grant_trial(trial)
        self.clock = 0.0
        self.settled_ids: set[str] = set()
        self.seen_statuses: dict[str, JobStatus] = {}
        self.count = 0

    @rule(minutes=st.integers(1, 120))
    def credit(self, minutes: int) -> None:
        self.account.credit(minutes, "purchase")

    @rule(target=jobs, seconds=st.floats(0, 3 * 3600, allow_nan=False))
    def accept(self, seconds: float):  # type: ignore[no-untyped-def]
        self.count += 1
        job = VoiceJob(
            job_id=f"j{self.count}",
            user_id=1,
            chat_id=1,
            source=AudioSource(MediaKind.VOICE, "f", "u"),
            duration_seconds=seconds,
            reserved_minutes=price_minutes(seconds),
            style=UserStyle(),
            created_at=self.clock,
            updated_at=self.clock,
        )
        before = self.account.balance
        try:
            self.account.reserve(job.reservation_id, job.reserved_minutes)
        except InsufficientMinutes:
            assert job.reserved_minutes > before
            assert self.account.balance == before
            return multiple()
        self.seen_statuses[job.job_id] = job.status
        return job

    @rule(job=jobs)
    def queue(self, job: VoiceJob) -> None:
        self._move(job, lambda: job.queue(self.clock))

    @rule(job=jobs)
    def start_or_redeliver(self, job: VoiceJob) -> None:
        attempts = job.attempts
        changed = self._move(job, lambda: job.start(self.clock))
        assert job.attempts == attempts + (1 if changed else 0)

    @rule(seconds=st.sampled_from([1, 300, 700]))
    def time_passes(self, seconds: int) -> None:
        self.clock += seconds

    @rule(job=jobs)
    def deliver(self, job: VoiceJob) -> None:
        if self._move(job, lambda: job.deliver("text", "en", self.clock)):
            self._settle(job, commit=True)

    @rule(job=jobs)
    def find_no_speech(self, job: VoiceJob) -> None:
        if self._move(job, lambda: job.find_no_speech(self.clock)):
            self._settle(job, commit=False)

    @rule(job=jobs)
    def fail(self, job: VoiceJob) -> None:
        if self._move(job, lambda: job.fail("boom", self.clock)):
            self._settle(job, commit=False)

    @rule(job=jobs)
    def press_stop(self, job: VoiceJob) -> None:
        def transition() -> bool:
            before = job.status
            job.request_stop(self.clock)
            return job.status is not before

        if self._move(job, transition) and job.status is JobStatus.CANCELLED:
            assert job.reserved_minutes == 0 and job.transcript is None, "not started: free"
            self._settle_stopped(job, price_minutes(job.duration_seconds))

    @rule(job=jobs, share=st.floats(0, 1))
    def worker_ends_a_stopped_job(self, job: VoiceJob, share: float) -> None:
        """The worker saw the Stop: ``share`` of the audio was recognized before it."""
        if job.status is not JobStatus.STOPPING:
            return
        price = job.reserved_minutes
        recognized = share * job.duration_seconds
        charge = cancellation_minutes(recognized, price)
        text = "partial" if recognized > 0 else None
        if self._move(job, lambda: job.cancel(text, charge, self.clock)):
            self._settle_stopped(job, price)

    @rule(target=settled, job=consumes(jobs))
    def finish_bookkeeping(self, job: VoiceJob) -> str:
        if self._move(job, lambda: job.fail("flushed", self.clock)):
            self._settle(job, commit=False)
        return job.reservation_id

    @rule(reservation=settled, commit=st.booleans())
    def settling_twice_is_rejected(self, reservation: str, commit: bool) -> None:
        with pytest.raises(UnknownReservation):
            if commit:
                self.account.commit(reservation)
            else:
                self.account.release(reservation)

    @invariant()
    def balance_never_negative(self) -> None:
        assert self.account.balance >= 0

    @invariant()
    def minutes_are_conserved(self) -> None:
        a = self.account
        assert a.balance + a.reserved + a.spent == a.credited

    @invariant()
    def open_reservations_are_exactly_the_unfinished_jobs(self) -> None:
        unfinished = {j for j, s in self.seen_statuses.items() if s not in FINISHED_STATUSES}
        assert set(self.account.reservations) == unfinished

    def _move(self, job: VoiceJob, transition) -> bool:  # type: ignore[no-untyped-def]
        self.clock += 1
        before = job.status
        try:
            changed = transition()
        except IllegalTransition:
            assert job.status is before
            return False
        except LeaseHeld:
            assert before in RUNNING_STATUSES and job.holds_lease(self.clock)
            return False
        if before in FINISHED_STATUSES:
            assert not changed and job.status is before, "a finished job ignores redelivery"
        if job.status.is_finished:
            assert job.lease_expires_at is None, "a finished job holds no claim"
        if changed:
            assert job.status in LEGAL[before]
            assert job.updated_at == self.clock
        self.seen_statuses[job.job_id] = job.status
        return bool(changed)

    def _settle(self, job: VoiceJob, *, commit: bool) -> None:
        assert job.reservation_id not in self.settled_ids, "settled at most once"
        minutes = (
            self.account.commit(job.reservation_id)
            if commit
            else self.account.release(job.reservation_id)
        )
        assert minutes == job.reserved_minutes
        self.settled_ids.add(job.reservation_id)

    def _settle_stopped(self, job: VoiceJob, price: int) -> None:
        assert job.reservation_id not in self.settled_ids, "settled at most once"
        spent, balance = self.account.spent, self.account.balance
        charged = self.account.commit_part(job.reservation_id, job.reserved_minutes)
        assert charged == job.reserved_minutes <= price, "never more than the full price"
        assert self.account.spent - spent == charged
        assert self.account.balance - balance == price - charged, "the rest given back"
        self.settled_ids.add(job.reservation_id)


TestMinutesAndJobs = MinutesAndJobs.TestCase


def test_trial_is_granted_once() -> None:
    account = MinutesAccount(7)
    assert account.grant_trial(15) and not account.grant_trial(15)
    assert (account.balance, account.credited) == (15, 15)


def test_illegal_transitions_raise() -> None:
    job = VoiceJob("j", 1, 1, AudioSource(MediaKind.VOICE, "f", "u"), 1.0, 1, UserStyle(), 0, 0)
    with pytest.raises(IllegalTransition):
        job.deliver("x", None, 1)
    job.queue(1)
    with pytest.raises(IllegalTransition):
        job.queue(2)
    with pytest.raises(IllegalTransition):
        job.find_no_speech(3)
