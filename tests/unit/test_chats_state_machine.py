"""Random group lives on the domain objects: admins and others change the mode and who
pays, a sponsor spends their minutes elsewhere and runs out, members send notes and files,
reply ``/transcribe`` (also on behalf of the group), and the group becomes a supergroup.

After every step: nobody paid for a message they did not ask for while the chat was
``on request`` (only the requester or the sponsor who chose to pay ever pays), no message
was transcribed or charged twice, no balance went negative and every ledger adds up, each
sponsorship that ran out told its sponsor exactly once, and settings changed only by the
chat's administrators (anonymous ones included) and survived the migration.
"""

from __future__ import annotations

from collections import Counter

import attrs
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from domain.chats import (
    GROUP_ANONYMOUS_BOT_ID,
    Action,
    Chat,
    ChatMode,
    ChatType,
    Incoming,
    MemberStatus,
    Sender,
    charge,
    may_change_settings,
    may_sponsor,
    request_key,
)
from domain.events import SponsorRanOut
from domain.jobs import MediaKind
from domain.ledger import MinutesAccount
from domain.policies import price_minutes

ADMINS = (1, 2)
MEMBERS = (3, 4, 5)
STATUS = {
    1: MemberStatus.CREATOR,
    2: MemberStatus.ADMINISTRATOR,
    3: MemberStatus.MEMBER,
    4: MemberStatus.RESTRICTED,
    5: MemberStatus.MEMBER,
}
users = st.sampled_from(ADMINS + MEMBERS)
kinds = st.none() | st.sampled_from(MediaKind)
seconds = st.integers(1, 900).map(float)  # 1 to 15 minutes, so sponsors do run out


@attrs.frozen
class Note:
    chat_id: int
    message_id: int
    sender: int
    kind: MediaKind | None
    seconds: float

    @property
    def key(self) -> str:
        return request_key(self.chat_id, self.message_id)


@attrs.frozen
class Charged:
    key: str
    payer: int
    requested: bool  # a ``/transcribe``; else an ``auto`` note nobody asked for
    requester: int | None  # the person who asked (None: nobody, or the group itself)
    sender: int
    mode: ChatMode
    sponsor: int | None


class GroupLife(RuleBasedStateMachine):
    notes = Bundle("notes")

    @initialize(trials=st.lists(st.integers(0, 10), min_size=5, max_size=5))
    def open_group(self, trials: list[int]) -> None:
        self.chat_type = ChatType.GROUP
        self.chat = Chat(chat_id=-4001)
        self.accounts: dict[int, MinutesAccount] = {}
        for user, trial in zip(ADMINS + MEMBERS, trials, strict=True):
            self.accounts[user] = MinutesAccount(user)
            self.accounts[user].grant_trial(trial)
        self.next_message = 0
        self.charges: list[Charged] = []
        self.transcribed: Counter[str] = Counter()
        self.free_repeats = 0
        self.sponsorships: list[int] = []  # who started each sponsorship, in order
        self.current: int | None = None  # the running sponsorship's index
        self.told: Counter[int] = Counter()  # sponsorship index -> SponsorRanOut events

    # -- settings ------------------------------------------------------------------------

    def _may(self, sender: Sender) -> bool:
        status = STATUS.get(sender.user_id)
        return may_change_settings(self.chat_type, self.chat.chat_id, sender, status)

    def _actor(self, user: int, anonymous: bool) -> Sender:
        return Sender(GROUP_ANONYMOUS_BOT_ID, self.chat.chat_id) if anonymous else Sender(user)

    @rule(user=users, anonymous=st.booleans(), mode=st.sampled_from(ChatMode))
    def change_mode(self, user: int, anonymous: bool, mode: ChatMode) -> None:
        before = attrs.evolve(self.chat)
        if self._may(self._actor(user, anonymous)):
            self.chat.set_mode(mode)
        else:
            assert user in MEMBERS and not anonymous
        assert self.chat.mode in (before.mode, mode)

    @rule(user=users, anonymous=st.booleans(), silent=st.booleans(), files=st.booleans())
    def change_options(self, user: int, anonymous: bool, silent: bool, files: bool) -> None:
        if self._may(self._actor(user, anonymous)):
            self.chat.set_silent(silent)
            self.chat.set_include_files(files)

    @rule(user=users, anonymous=st.booleans())
    def sponsor(self, user: int, anonymous: bool) -> None:
        actor = self._actor(user, anonymous)
        status = STATUS.get(actor.user_id)
        if may_sponsor(self.chat_type, self.chat.chat_id, actor, status):
            self.chat.let_sponsor_pay(user)
            self.sponsorships.append(user)
            self.current = len(self.sponsorships) - 1
        else:
            assert anonymous or user in MEMBERS

    @rule(user=users)
    def sponsor_auto(self, user: int) -> None:
        """The usual start: an admin turns ``auto`` on and pays for it."""
        self.change_mode(user, False, ChatMode.AUTO)
        self.sponsor(user, False)

    @rule(user=users, anonymous=st.booleans())
    def stop_sponsoring(self, user: int, anonymous: bool) -> None:
        if self._may(self._actor(user, anonymous)):
            self.chat.let_requesters_pay()
            self.current = None

    # -- minutes -------------------------------------------------------------------------

    @rule(user=users, minutes=st.integers(1, 10))
    def top_up(self, user: int, minutes: int) -> None:
        self.accounts[user].credit(minutes, "purchase")

    @rule(user=users, minutes=st.integers(1, 30))
    def spend_in_private(self, user: int, minutes: int) -> None:
        """The sponsor (or anyone) uses their minutes elsewhere, and may run low."""
        account = self.accounts[user]
        spend = min(minutes, account.balance)
        if spend:
            self.next_message += 1
            reservation = f"private:{self.next_message}"
            account.reserve(reservation, spend)
            account.commit(reservation)

    # -- messages ------------------------------------------------------------------------

    @rule(target=notes, user=users, kind=kinds, length=seconds)
    def send(self, user: int, kind: MediaKind | None, length: float) -> Note:
        self.next_message += 1
        note = Note(self.chat.chat_id, self.next_message, user, kind, length)
        self._handle(note, Sender(user), requested=False)
        return note

    @rule(note=notes, user=users, anonymous=st.booleans())
    def request(self, note: Note, user: int, anonymous: bool) -> None:
        if note.chat_id != self.chat.chat_id:
            return  # the old group's messages cannot be replied to from the supergroup
        self.next_message += 1
        self._handle(note, self._actor(user, anonymous), requested=True)

    @rule(user=users)
    def request_without_a_reply(self, user: int) -> None:
        self.next_message += 1
        before = {u: (a.balance, a.reserved, a.spent) for u, a in self.accounts.items()}
        message = Incoming(self.chat_type, Sender(user), None, requested=True)
        decision = charge(self.chat, message, f"tg:x:{self.next_message}", 1, self.accounts)
        assert decision.action is Action.EXPLAIN
        assert before == {u: (a.balance, a.reserved, a.spent) for u, a in self.accounts.items()}

    def _handle(self, note: Note, sender: Sender, *, requested: bool) -> None:
        message = Incoming(self.chat_type, sender, note.kind, requested)
        mode, sponsor = self.chat.mode, self.chat.sponsor_id
        if note.key in self.transcribed:
            self.free_repeats += 1  # the job exists: its stored transcript, free
            return
        minutes = price_minutes(note.seconds)
        decision = charge(self.chat, message, note.key, minutes, self.accounts)
        ran_out = self._collect_events()
        if sponsor is not None and not ran_out and decision.action is not Action.IGNORE:
            assert decision.action is not Action.TRANSCRIBE or decision.payer_id == sponsor
        if ran_out:
            assert sponsor is not None and self.accounts[sponsor].balance < minutes
        if decision.action is not Action.TRANSCRIBE:
            assert not any(account.holds(note.key) for account in self.accounts.values())
            return
        assert decision.payer_id is not None
        self.accounts[decision.payer_id].commit(note.key)  # delivered
        self.transcribed[note.key] += 1
        requester = sender.user_id if requested and sender.is_person else None
        self.charges.append(
            Charged(note.key, decision.payer_id, requested, requester, note.sender, mode, sponsor)
        )

    def _collect_events(self) -> bool:
        events, self.chat.events = self.chat.events, []
        for event in events:
            assert isinstance(event, SponsorRanOut)
            assert self.current is not None
            assert event.sponsor_id == self.sponsorships[self.current]
            assert event.chat_id == self.chat.chat_id
            self.told[self.current] += 1
            self.current = None
        return bool(events)

    # -- migration -----------------------------------------------------------------------

    @rule(new_id=st.integers(-(10**12), -(10**9)))
    def become_a_supergroup(self, new_id: int) -> None:
        if self.chat_type is ChatType.SUPERGROUP:
            return
        moved = self.chat.migrated_to(new_id)
        assert moved.same_settings_as(self.chat) and moved.chat_id == new_id
        self.chat, self.chat_type = moved, ChatType.SUPERGROUP

    # -- invariants ----------------------------------------------------------------------

    @invariant()
    def nobody_pays_for_what_they_did_not_ask_for(self) -> None:
        for charged in self.charges:
            chose_to_pay = charged.payer == charged.sponsor
            if charged.requested:
                assert chose_to_pay or charged.payer == charged.requester
            else:
                assert charged.mode is ChatMode.AUTO, "on request, only requests are charged"
                assert chose_to_pay or charged.payer == charged.sender
                if charged.sponsor is not None:
                    assert chose_to_pay, "a sponsored note is never charged to its sender"

    @invariant()
    def nothing_is_transcribed_or_charged_twice(self) -> None:
        assert all(count == 1 for count in self.transcribed.values())
        assert len({charged.key for charged in self.charges}) == len(self.charges)

    @invariant()
    def balances_hold(self) -> None:
        for account in self.accounts.values():
            assert account.balance >= 0
            assert account.balance + account.reserved + account.spent == account.credited
            assert account.reserved == 0

    @invariant()
    def a_sponsor_who_ran_out_was_told_once(self) -> None:
        assert all(count == 1 for count in self.told.values())
        if self.current is None:
            assert self.chat.sponsor_id is None
        else:
            assert self.chat.sponsor_id == self.sponsorships[self.current]
            assert self.chat.sponsor_id in ADMINS


GroupLife.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestGroupLife = GroupLife.TestCase
