"""Random sequences of purchases (some delivered twice), payments that are not what their
package costs (wrong amount, currency, payload or buyer), voice notes, deliveries,
failures, no-speech, redeliveries, flushes, owner credits (some edited afterwards),
refunds, actions on transcripts (summary, action items, translation; pressed by the
owner or someone else, twice, or with the model down) and Stop presses (by the sender,
by someone else, and from "another process" in the middle of a long recording's chunks),
run through the real application handlers on in-memory ports (an edited command through
the real PTB handler registration). After every step the books must balance."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from telegram import Update
from telegram.ext import ApplicationBuilder

from application.commands import (
    AcceptVoiceNote,
    CompletePayment,
    FlushStuckJobs,
    GrantMinutes,
    RefundPayment,
    RunTranscriptAction,
    StopJob,
)
from application.errors import RecognitionFailed
from application.handlers.stop_job import StopResult
from domain.catalogue import DEFAULT_PACKAGES, Package
from domain.jobs import AudioSource, JobStatus, MediaKind, StopOutcome
from domain.policies import price_minutes
from domain.transcript_actions import (
    ActionRequest,
    TranscriptAction,
    action_handle,
    action_minutes,
)
from entrypoints.telegram.admin import AdminHandlers
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio
from tests.fakes.telegram import TelegramFake

USERS = (1, 2)
CHARGES = tuple(f"charge-{n}" for n in range(6))
WRONG_CHARGES = tuple(f"wrong-{n}" for n in range(4))
OWNER = 9000
FLAWS = ("amount", "currency", "stale_payload", "garbled_payload", "buyer")
ACTIONS = (
    ActionRequest(TranscriptAction.SUMMARY),
    ActionRequest(TranscriptAction.ACTION_ITEMS),
    ActionRequest(TranscriptAction.TRANSLATE, "ru"),
)


def edited_command(text: str, message_id: int, user_id: int) -> dict[str, object]:
    """An ``edited_message`` update as Telegram sends it when a command is edited."""
    sender = {"id": user_id, "is_bot": False, "first_name": "Owner"}
    entity = {"type": "bot_command", "offset": 0, "length": len(text.split(maxsplit=1)[0])}
    message = {
        "message_id": message_id,
        "date": 1_700_000_000,
        "edit_date": 1_700_000_060,
        "chat": {"id": user_id, "type": "private", "first_name": "Owner"},
        "from": sender,
        "text": text,
        "entities": [entity],
    }
    return {"update_id": message_id, "edited_message": message}


class Books(RuleBasedStateMachine):
    @initialize()
    def open_shop(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.world = World.build(max_attempts=2, max_chunk_seconds=150.0)
        self.stop_after_calls: dict[str, int] = {}  # job -> recognizer calls before Stop
        recognize = self.world.recognizer.recognize

        async def recognize_then_maybe_stop(*args, **kwargs):  # type: ignore[no-untyped-def]
            answer = await recognize(*args, **kwargs)
            for job_id, calls in list(self.stop_after_calls.items()):
                if self.world.recognizer.calls >= calls:
                    del self.stop_after_calls[job_id]
                    await self._stop_as_another_process(job_id)
            return answer

        self.world.recognizer.recognize = recognize_then_maybe_stop  # type: ignore[method-assign]
        self.count = 0
        self.paid: dict[str, tuple[int, int]] = {}  # charge -> (user, minutes)
        self.uncredited: set[str] = set()  # charges recorded, never to be credited
        self.granted: Counter[int] = Counter()  # what the owner's (unedited) credits gave
        self.messages = itertools.count(1)
        self.action_charges: Counter[tuple[str, str]] = Counter()  # (job, key) -> minutes
        # The owner's commands as the bot registers them, on a PTB application talking to
        # the Bot API fake (never polling: updates are handed to it one by one).
        self.telegram = TelegramFake().__enter__()
        self.ptb = (
            ApplicationBuilder()
            .token(self.telegram.token)
            .base_url(self.telegram.base_url)
            .updater(None)
            .build()
        )
        AdminHandlers(self.world.app, OWNER).register(self.ptb)
        self.run(self.ptb.initialize())

    def run(self, awaitable):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(awaitable)

    def teardown(self) -> None:
        self.run(self.ptb.shutdown())
        self.telegram.__exit__(None, None, None)
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
        charge=st.sampled_from(WRONG_CHARGES),
        package=st.sampled_from(DEFAULT_PACKAGES[:3]),
        flaw=st.sampled_from(FLAWS),
        amount=st.integers(-5, 10_000),
    )
    def pay_wrongly(self, user: int, charge: str, package: Package, flaw: str, amount: int) -> None:
        """A successful_payment that is not what the package costs: never credited."""
        payload, currency, stars = f"vs1:{package.package_id}:{user}", "XTR", package.stars
        if flaw == "amount":
            stars = amount if amount != package.stars else package.stars + 1
        elif flaw == "currency":
            currency = "USD"
        elif flaw == "stale_payload":
            payload = f"vs1:m7:{user}"
        elif flaw == "garbled_payload":
            payload = f"pkg_{package.minutes}"
        else:
            payload = f"vs1:{package.package_id}:{user + 100}"
        outcome = self.run(
            self.world.app.bus.handle(CompletePayment(user, charge, payload, currency, stars))
        )
        assert not outcome.credited and outcome.minutes == 0 and outcome.problem is not None
        self.uncredited.add(charge)

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

    async def _stop_as_another_process(self, job_id: str) -> None:
        """Stop pressed where the job does not run: only its stored state says so."""
        job = await self.world.jobs.get(job_id)
        if job is not None and job.request_stop(self.world.clock.now()) is StopOutcome.STOPPING:
            await self.world.jobs.save(job)

    @rule(user=st.sampled_from(USERS), seconds=st.floats(400, 1500), after=st.integers(1, 6))
    def send_long_voice_stopped_midway(self, user: int, seconds: float, after: int) -> None:
        self.count += 1
        name = f"f{self.count}"
        self.world.files.files[name] = FakeAudio(seconds, "some words")
        self.stop_after_calls[f"r{self.count}"] = self.world.recognizer.calls + after
        source = AudioSource(MediaKind.VOICE, name, name, seconds)
        self.run(self.world.app.bus.handle(AcceptVoiceNote(f"r{self.count}", user, user, source)))

    @rule(data=st.data())
    def sender_presses_stop(self, data: st.DataObject) -> None:
        if self.world.jobs.rows:
            job = data.draw(st.sampled_from(sorted(self.world.jobs.rows.values(), key=str)))
            before = job.status
            result = self.run(self.world.app.bus.handle(StopJob(job.job_id, job.user_id)))
            if before.is_finished:
                assert result is StopResult.FINISHED, "after the answer, Stop changes nothing"

    @rule(data=st.data())
    def stranger_presses_stop(self, data: st.DataObject) -> None:
        if self.world.jobs.rows:
            job_id = data.draw(st.sampled_from(sorted(self.world.jobs.rows)))
            job = self.world.jobs.rows[job_id]
            stranger = next(u for u in (*USERS, 77) if u != job.user_id)
            status, version = job.status, job.version
            result = self.run(self.world.app.bus.handle(StopJob(job_id, stranger)))
            assert result is StopResult.NOT_YOURS
            assert (self.world.jobs.rows[job_id].status, self.world.jobs.rows[job_id].version) == (
                status,
                version,
            )

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
        self.granted[user] += minutes

    @rule(user=st.sampled_from(USERS), minutes=st.integers(1, 30))
    def owner_edits_a_credit(self, user: int, minutes: int) -> None:
        """``/credit`` edited into another amount: Telegram sends ``edited_message``."""
        update = edited_command(f"/credit {user} {minutes}", next(self.messages), OWNER)
        self.run(self.ptb.process_update(Update.de_json(update, self.ptb.bot)))

    @rule(charge=st.sampled_from(CHARGES))
    def owner_refunds(self, charge: str) -> None:
        self.run(self.world.app.bus.handle(RefundPayment(charge)))

    @rule(
        data=st.data(),
        by_owner=st.integers(0, 3),
        request=st.sampled_from(ACTIONS),
        model_down=st.integers(0, 3),
    )
    def press_an_action(
        self, data: st.DataObject, by_owner: int, request: ActionRequest, model_down: int
    ) -> None:
        """A button under a transcript (mostly a delivered one), pressed mostly by its owner,
        sometimes by the other user, sometimes while the model is down."""
        jobs = self.world.jobs.rows
        delivered = sorted(j for j, job in jobs.items() if job.status is JobStatus.DELIVERED)
        if not delivered:  # a short note first (answered at once, if the minutes allow)
            self.send_voice(data.draw(st.sampled_from(USERS)), 20.0, "speech")
            delivered = sorted(j for j, job in jobs.items() if job.status is JobStatus.DELIVERED)
        job_id = data.draw(st.sampled_from(delivered or sorted(jobs)))
        owner = jobs[job_id].user_id
        presser = owner if by_owner else next(u for u in USERS if u != owner)
        self.world.llm.fail = model_down == 0
        try:
            outcome = self.run(
                self.world.app.bus.handle(
                    RunTranscriptAction(action_handle(job_id), presser, request)
                )
            )
        finally:
            self.world.llm.fail = False
        if outcome.minutes:
            self.action_charges[(job_id, request.key)] += outcome.minutes

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
    def spent_is_exactly_what_delivered_jobs_and_stored_results_cost(self) -> None:
        jobs = self.world.jobs.rows
        for user in USERS:
            account = self.world.accounts.rows.get(user)
            delivered = sum(
                j.reserved_minutes
                for j in jobs.values()
                # a stopped job's: the charge for what was recognized before Stop
                if j.user_id == user and j.status in (JobStatus.DELIVERED, JobStatus.CANCELLED)
            )
            results = sum(
                action_minutes(jobs[job_id].duration_seconds, 1)
                for (job_id, _), result in self.world.action_results.rows.items()
                if result.user_id == user
            )
            assert (account.spent if account else 0) == delivered + results, "charged once"

    @invariant()
    def each_action_result_is_charged_exactly_once_and_only_to_its_owner(self) -> None:
        stored = self.world.action_results.rows
        assert set(self.action_charges) <= set(stored), "no charge without a stored result"
        for (job_id, key), result in stored.items():
            job = self.world.jobs.rows[job_id]
            assert result.user_id == job.user_id, "only the transcript's owner acts on it"
            price = action_minutes(job.duration_seconds, 1)
            assert self.action_charges[(job_id, key)] == price, "charged exactly once"

    @invariant()
    def no_action_keeps_minutes_reserved(self) -> None:
        for account in self.world.accounts.rows.values():
            assert not [r for r in account.reservations if "#" in r], "released or committed"

    @invariant()
    def a_stopped_job_costs_at_most_its_price_and_nothing_without_text(self) -> None:
        for job in self.world.jobs.rows.values():
            if job.status is JobStatus.CANCELLED:
                assert job.reserved_minutes <= price_minutes(job.duration_seconds)
                if not job.transcript:
                    assert job.reserved_minutes == 0, f"{job.job_id} charged without text"

    @invariant()
    def each_payment_credited_once(self) -> None:
        for user in USERS:
            account = self.world.accounts.rows.get(user)
            mine = sum(m for u, m in self.paid.values() if u == user)
            assert (account.purchased if account else 0) == mine

    @invariant()
    def wrong_payments_are_recorded_never_credited(self) -> None:
        for account in self.world.accounts.rows.values():
            assert not self.uncredited & set(account.payments), "a wrong payment credited"
        for charge in self.uncredited:
            assert self.world.payments.rows[charge].minutes == 0
        alerted = {c for c in self.uncredited if any(c in a for a in self.world.alerts.sent)}
        assert alerted == self.uncredited, "the owner hears of every wrong payment"

    @invariant()
    def only_unedited_credits_grant(self) -> None:
        for user in USERS:
            account = self.world.accounts.rows.get(user)
            assert (account.granted if account else 0) == self.granted[user]

    @invariant()
    def each_job_answered_at_most_once(self) -> None:
        answers = Counter(job_id for job_id, _ in self.world.messenger.delivered)
        assert all(count == 1 for count in answers.values())


Books.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestBooks = Books.TestCase
