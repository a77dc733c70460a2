"""Random sequences of purchases (some delivered twice), voice notes, deliveries,
failures, no-speech, redeliveries, flushes, owner credits and refunds, run through the
real application handlers on in-memory ports. After every step the books must balance."""

from __future__ import annotations

import asyncio
from collections import Counter

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from application.commands import (
    AcceptVoiceNote,
    CompletePayment,
    FlushStuckJobs,
    GrantMinutes,
    RefundPayment,
)
from application.errors import RecognitionFailed
from domain.catalogue import DEFAULT_PACKAGES
from domain.jobs import AudioSource, JobStatus, MediaKind
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio

USERS = (1, 2)
CHARGES = tuple(f"charge-{n}" for n in range(6))


class Books(RuleBasedStateMachine):
    @initialize()
    def open_shop(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.world = World.build(max_attempts=2)
        self.count = 0
        self.paid: dict[str, tuple[int, int]] = {}  # charge -> (user, minutes)

    def run(self, awaitable):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(awaitable)

    def teardown(self) -> None:
        self.loop.close()

    @rule(
        user=st.sampled_from(USERS),
        charge=st.sampled_from(CHARGES),
        package=st.sampled_from(DEFAULT_PACKAGES[:3]),
    )
    def pay(self, user: int, charge: str, package) -> None:  # type: ignore[no-untyped-def]
        payload = f"vs1:{package.package_id}:{user}"
        buyer = self.paid.get(charge, (user, 0))[0]  # a charge id belongs to one buyer
        outcome = self.run(
            self.world.app.bus.handle(CompletePayment(buyer, charge, payload, "XTR", package.stars))
        )
        if outcome.credited:
            assert charge not in self.paid, "a charge is credited once"
            self.paid[charge] = (buyer, package.minutes)

    @rule(
        user=st.sampled_from(USERS),
        seconds=st.floats(1, 400),
        outcome=st.sampled_from(["speech", "silence", "permanent", "transient"]),
    )
    def send_voice(self, user: int, seconds: float, outcome: str) -> None:
        self.count += 1
        name = f"f{self.count}"
        words = "   " if outcome == "silence" else "some words"
        self.world.files.files[name] = FakeAudio(seconds, words)
        if outcome in ("permanent", "transient"):
            self.world.recognizer.failures.append(
                RecognitionFailed(outcome, transient=outcome == "transient")
            )
        source = AudioSource(MediaKind.VOICE, name, name, seconds)
        self.run(self.world.app.bus.handle(AcceptVoiceNote(f"r{self.count}", user, user, source)))

    @rule()
    def worker_takes_one(self) -> None:
        self.run(self.world.app.consumer.consume_one(0))
        self.world.clock.advance(200)

    @rule(data=st.data())
    def queue_redelivers(self, data: st.DataObject) -> None:
        if self.world.jobs.rows:
            job_id = data.draw(st.sampled_from(sorted(self.world.jobs.rows)))
            self.run(self.world.queue.enqueue(job_id))

    @rule()
    def owner_flushes(self) -> None:
        self.world.clock.advance(3600)
        self.run(self.world.app.bus.handle(FlushStuckJobs(older_than_seconds=1800)))

    @rule(user=st.sampled_from(USERS), minutes=st.integers(1, 30))
    def owner_credits(self, user: int, minutes: int) -> None:
        self.run(self.world.app.bus.handle(GrantMinutes(user, minutes)))

    @rule(charge=st.sampled_from(CHARGES))
    def owner_refunds(self, charge: str) -> None:
        self.run(self.world.app.bus.handle(RefundPayment(charge)))

    @invariant()
    def no_balance_is_negative_and_minutes_are_conserved(self) -> None:
        for account in self.world.accounts.rows.values():
            assert account.balance >= 0
            assert (
                account.balance + account.reserved + account.spent
                == account.trial + account.purchased + account.granted - account.refunded
            )

    @invariant()
    def reservations_match_the_jobs(self) -> None:
        for job in self.world.jobs.rows.values():
            account = self.world.accounts.rows.get(job.user_id)
            held = account.reservations.get(job.job_id) if account else None
            if job.status.is_finished or job.reserved_minutes == 0:
                assert held is None, f"{job.job_id} finished but still holds minutes"
            elif held is not None:
                assert held == job.reserved_minutes

    @invariant()
    def spent_is_exactly_what_delivered_jobs_cost(self) -> None:
        for user in USERS:
            account = self.world.accounts.rows.get(user)
            delivered = sum(
                j.reserved_minutes
                for j in self.world.jobs.rows.values()
                if j.user_id == user and j.status is JobStatus.DELIVERED
            )
            assert (account.spent if account else 0) == delivered, "no job charged twice"

    @invariant()
    def each_payment_credited_once(self) -> None:
        for user in USERS:
            account = self.world.accounts.rows.get(user)
            mine = sum(m for u, m in self.paid.values() if u == user)
            assert (account.purchased if account else 0) == mine

    @invariant()
    def each_job_answered_at_most_once(self) -> None:
        answers = Counter(job_id for job_id, _ in self.world.messenger.delivered)
        assert all(count == 1 for count in answers.values())


Books.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestBooks = Books.TestCase
