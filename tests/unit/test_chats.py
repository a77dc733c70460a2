"""Property tests of the group chat policies: what is transcribed, who pays, who may
change settings, the sponsor's fallback and migration (domain/chats.py)."""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st

from domain.chats import (
    GROUP_ANONYMOUS_BOT_ID,
    NOTES,
    Action,
    Chat,
    ChatMode,
    ChatType,
    Decision,
    Incoming,
    MemberStatus,
    Payer,
    Reason,
    Sender,
    charge,
    decide,
    may_change_settings,
    may_sponsor,
    request_key,
)
from domain.events import SponsorRanOut
from domain.jobs import MediaKind
from domain.ledger import MinutesAccount

CHAT_ID = -1001
user_ids = st.integers(1, 50)
media = st.none() | st.sampled_from(MediaKind)
group_types = st.sampled_from([ChatType.GROUP, ChatType.SUPERGROUP])
statuses = st.none() | st.sampled_from(MemberStatus)
people = st.builds(Sender, user_ids)
senders = people | st.sampled_from(
    [
        Sender(GROUP_ANONYMOUS_BOT_ID, CHAT_ID),  # an anonymous admin, as the group
        Sender(136817688, -100777),  # a channel posting in the group
        Sender(777000, -100778),  # a linked channel's post
    ]
)
chats = st.builds(
    Chat,
    chat_id=st.just(CHAT_ID),
    mode=st.sampled_from(ChatMode),
    silent=st.booleans(),
    include_files=st.booleans(),
    sponsor_id=st.none() | user_ids,
)
group_messages = st.builds(Incoming, group_types, senders, media, st.booleans())


@given(chats, people, media, st.booleans())
def test_a_private_chat_transcribes_all_audio_paid_by_its_sender(
    chat: Chat, sender: Sender, kind: MediaKind | None, requested: bool
) -> None:
    decision = decide(chat, Incoming(ChatType.PRIVATE, sender, kind, requested))
    if kind is None:
        assert decision == Decision(Action.EXPLAIN, reason=Reason.NO_AUDIO)
    else:
        assert decision == Decision(Action.TRANSCRIBE, payer_id=sender.user_id)


@given(chats, senders, media, st.booleans())
def test_a_channel_is_ignored(
    chat: Chat, sender: Sender, kind: MediaKind | None, requested: bool
) -> None:
    assert decide(chat, Incoming(ChatType.CHANNEL, sender, kind, requested)).action is Action.IGNORE


@given(chats, group_messages)
def test_in_a_group_only_a_request_is_ever_answered_with_words(
    chat: Chat, message: Incoming
) -> None:
    decision = decide(chat, message)
    if not message.requested:
        assert decision.action is not Action.EXPLAIN
    if decision.action is Action.EXPLAIN:
        assert decision.reason in (Reason.NO_AUDIO, Reason.NO_PAYER)


@given(chats, group_messages)
def test_on_request_transcribes_only_requests(chat: Chat, message: Incoming) -> None:
    chat.mode = ChatMode.ON_REQUEST
    decision = decide(chat, message)
    if decision.action is Action.TRANSCRIBE:
        assert message.requested and message.media is not None


@given(chats, group_messages)
def test_auto_takes_notes_and_files_only_when_asked_to(chat: Chat, message: Incoming) -> None:
    chat.mode = ChatMode.AUTO
    decision = decide(chat, message)
    wanted = message.media in NOTES or (message.media is not None and chat.include_files)
    payable = chat.sponsor_id is not None or message.sender.is_person
    if message.media is None:
        assert decision.action is not Action.TRANSCRIBE
    elif wanted and payable:
        assert decision.action is Action.TRANSCRIBE
    elif not message.requested:
        assert decision.action is Action.IGNORE


@given(chats, group_messages)
def test_a_request_for_audio_is_transcribed_when_somebody_can_pay(
    chat: Chat, message: Incoming
) -> None:
    decision = decide(chat, attrs.evolve(message, requested=True))
    if message.media is None:
        assert decision == Decision(Action.EXPLAIN, reason=Reason.NO_AUDIO)
    elif chat.sponsor_id is None and not message.sender.is_person:
        assert decision == Decision(Action.EXPLAIN, reason=Reason.NO_PAYER)
    else:
        assert decision.action is Action.TRANSCRIBE
        assert decision.show_status is (not chat.silent)


@given(chats, group_messages)
def test_the_sponsor_pays_else_the_person_who_asked(chat: Chat, message: Incoming) -> None:
    decision = decide(chat, message)
    if decision.action is Action.TRANSCRIBE:
        expected = chat.sponsor_id if chat.payer is Payer.SPONSOR else message.sender.user_id
        assert decision.payer_id == expected
        assert decision.payer_id != GROUP_ANONYMOUS_BOT_ID


@given(group_types, senders, statuses)
def test_group_settings_are_for_administrators_and_the_group_itself(
    chat_type: ChatType, sender: Sender, status: MemberStatus | None
) -> None:
    allowed = may_change_settings(chat_type, CHAT_ID, sender, status)
    if sender.sender_chat_id is not None:
        assert allowed is (sender.sender_chat_id == CHAT_ID)
    else:
        assert allowed is (status in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR))
    if may_sponsor(chat_type, CHAT_ID, sender, status):
        assert allowed and sender.is_person


@given(senders, statuses)
def test_a_private_chat_is_its_users_and_a_channel_nobodys(
    sender: Sender, status: MemberStatus | None
) -> None:
    owner = sender.user_id
    assert may_change_settings(ChatType.PRIVATE, owner, sender, status) is sender.is_person
    assert not may_change_settings(ChatType.PRIVATE, owner + 1, sender, status)
    assert not may_change_settings(ChatType.CHANNEL, CHAT_ID, sender, status)
    assert not may_sponsor(ChatType.PRIVATE, owner, sender, status)


def test_an_anonymous_admin_acts_as_the_chat_but_cannot_sponsor() -> None:
    anonymous = Sender(GROUP_ANONYMOUS_BOT_ID, CHAT_ID)
    assert may_change_settings(ChatType.SUPERGROUP, CHAT_ID, anonymous, None)
    assert not may_sponsor(ChatType.SUPERGROUP, CHAT_ID, anonymous, None)
    assert not may_change_settings(ChatType.SUPERGROUP, -1002, anonymous, None)


@given(chats)
def test_the_sponsor_running_out_falls_back_to_on_request_and_is_told_once(chat: Chat) -> None:
    sponsor = chat.sponsor_id
    first, second = chat.sponsor_ran_out(), chat.sponsor_ran_out()

    assert first is (sponsor is not None) and second is False
    assert chat.sponsor_id is None and chat.payer is Payer.REQUESTER
    if sponsor is not None:
        assert chat.mode is ChatMode.ON_REQUEST
        assert chat.events == [SponsorRanOut(CHAT_ID, sponsor)]
    else:
        assert chat.events == []


@given(chats, st.integers(-(10**13), -1))
def test_migration_keeps_the_settings(chat: Chat, new_id: int) -> None:
    chat.version = 7
    moved = chat.migrated_to(new_id)
    assert moved.chat_id == new_id and moved.version == 0
    assert moved.same_settings_as(chat)
    assert chat.chat_id == CHAT_ID, "the old record is not changed"


@given(
    chats,
    group_messages | st.builds(Incoming, st.just(ChatType.PRIVATE), people, media, st.booleans()),
    st.integers(0, 10),
    st.integers(0, 10),
    st.integers(1, 10),
)
def test_charge_reserves_once_on_the_payer_it_names(
    chat: Chat, message: Incoming, sponsor_balance: int, sender_balance: int, minutes: int
) -> None:
    accounts = {message.sender.user_id: MinutesAccount(message.sender.user_id, sender_balance)}
    sponsor = chat.sponsor_id
    if sponsor is not None:
        accounts[sponsor] = MinutesAccount(sponsor, balance=sponsor_balance)
    decided = decide(attrs.evolve(chat, events=[]), message)
    decision = charge(chat, message, "tg:1:2", minutes, accounts)

    holders = [user for user, account in accounts.items() if account.holds("tg:1:2")]
    if decision.action is Action.TRANSCRIBE:
        assert holders == [decision.payer_id]
        assert decision == decide(chat, message)
    else:
        assert holders == []
    assert all(account.balance >= 0 for account in accounts.values())
    ran_out = chat.events != []
    if ran_out:
        assert sponsor is not None and accounts[sponsor].balance < minutes
    if sponsor is not None and not message.requested and message.chat_type.is_group:
        assert decision.payer_id in (None, sponsor), "a sponsored note is never its sender's"
    if decision.reason is Reason.NO_MINUTES:
        assert message.requested or message.chat_type is ChatType.PRIVATE
    if decided.action is not Action.TRANSCRIBE:
        assert decision == decided, "charging refuses nothing that deciding allowed"
    elif decision.action is not Action.TRANSCRIBE:
        # The payer was short: whoever asked (or wrote in private) is told why in one
        # line; a note nobody asked for is dropped without a word.
        if message.requested or message.chat_type is ChatType.PRIVATE:
            nobody = ran_out and not message.sender.is_person
            reason = Reason.NO_PAYER if nobody else Reason.NO_MINUTES
            assert (decision.action, decision.reason) == (Action.EXPLAIN, reason)
        else:
            assert decision == Decision(Action.IGNORE)


def test_a_sponsor_running_out_costs_a_note_sender_nothing_and_an_asker_the_note() -> None:
    chat = Chat(CHAT_ID, ChatMode.AUTO, sponsor_id=1)
    accounts = {1: MinutesAccount(1, balance=2), 3: MinutesAccount(3, balance=10)}
    note = Incoming(ChatType.SUPERGROUP, Sender(3), MediaKind.VOICE)

    assert charge(chat, note, "tg:1:1", 2, accounts).payer_id == 1
    assert charge(chat, note, "tg:1:2", 2, accounts) == Decision(Action.IGNORE)
    assert chat.events == [SponsorRanOut(CHAT_ID, 1)]
    assert (chat.mode, chat.sponsor_id) == (ChatMode.ON_REQUEST, None)
    assert accounts[3].balance == 10, "the note's sender never asked"

    request = attrs.evolve(note, requested=True)
    assert charge(chat, request, "tg:1:2", 2, accounts).payer_id == 3
    assert accounts[3].holds("tg:1:2") and len(chat.events) == 1, "the sponsor is told once"


def test_a_request_is_keyed_by_the_audio_message() -> None:
    assert request_key(-100123, 45) == "tg:-100123:45"
