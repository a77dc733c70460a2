"""Group chats: when a chat's audio is transcribed, who pays, and who may change that.

A private chat belongs to its user: every audio is transcribed and its sender pays, as
always. A group or supergroup has a ``Chat`` with a mode: ``on request`` (the default:
nothing happens until someone replies ``/transcribe`` to audio) or ``auto`` (every voice
note and video note, and with ``include_files`` audio and video files too); ``silent``
drops the status message in either mode. Content without audio is ignored in groups,
never answered, unless somebody asked. Either the person who asked pays (the
``/transcribe`` sender; in ``auto`` the note's sender) or the chat's sponsor, the admin
who turned that on. Only administrators change settings; an anonymous admin (a message
sent on behalf of the group itself) acts as the chat and may change them, but cannot be
the sponsor: a chat has no minutes of its own.

Paying for one message (``charge``), as the use case does it on freshly read records:

1. ``decide`` on the chat and the message: transcribe (and whose minutes), ignore, or
   explain in one line to whoever asked;
2. reserve the minutes on that account; when the sponsor's cannot cover them the chat
   falls back to ``on request`` with requesters paying (``Chat.sponsor_ran_out``, which
   records ``SponsorRanOut`` once, so the sponsor is told once) and the message is
   decided again: an unrequested note is then ignored, a request is paid by its sender.

A message is transcribed at most once: its request key (``request_key``) is the chat and
message id of the audio itself, also for a ``/transcribe`` replying to it, so a second
request, or a request after ``auto`` already did it, finds the job and costs nothing.
A group upgraded to a supergroup keeps its settings under the new id (``migrated_to``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import attrs

from domain.errors import InsufficientMinutes
from domain.events import Event, SponsorRanOut
from domain.jobs import MediaKind
from domain.ledger import MinutesAccount

# The user Telegram shows as the sender of messages an anonymous admin posts as the group.
GROUP_ANONYMOUS_BOT_ID = 1087968824

# What ``auto`` transcribes without being asked; other audio only with ``include_files``.
NOTES = frozenset({MediaKind.VOICE, MediaKind.VIDEO_NOTE})


class ChatType(StrEnum):
    """Telegram's chat types."""

    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"

    @property
    def is_group(self) -> bool:
        return self in (ChatType.GROUP, ChatType.SUPERGROUP)


class ChatMode(StrEnum):
    ON_REQUEST = "on_request"
    AUTO = "auto"


class Payer(StrEnum):
    REQUESTER = "requester"
    SPONSOR = "sponsor"


class MemberStatus(StrEnum):
    """A user's standing in a chat, as ``getChatMember`` reports it."""

    CREATOR = "creator"
    ADMINISTRATOR = "administrator"
    MEMBER = "member"
    RESTRICTED = "restricted"
    LEFT = "left"
    KICKED = "kicked"

    @property
    def is_admin(self) -> bool:
        return self in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR)


@attrs.frozen
class Sender:
    """Who sent a message or pressed a button.

    ``sender_chat_id`` is set when the message was sent on behalf of a chat: the group
    itself (an anonymous admin; ``user_id`` is then ``GROUP_ANONYMOUS_BOT_ID``) or a
    channel (a linked channel's post, an admin posting as the channel).
    """

    user_id: int
    sender_chat_id: int | None = None

    @property
    def is_person(self) -> bool:
        """A user with minutes of their own, who can be charged."""
        return self.sender_chat_id is None and self.user_id != GROUP_ANONYMOUS_BOT_ID

    def acts_as(self, chat_id: int) -> bool:
        """Sent on behalf of this very chat: only its administrators can do that."""
        return self.sender_chat_id == chat_id


class Action(StrEnum):
    TRANSCRIBE = "transcribe"
    IGNORE = "ignore"  # not a word, not even an error
    EXPLAIN = "explain"  # one line, to whoever asked (``Decision.reason``)


class Reason(StrEnum):
    """Why a message the sender meant for the bot is not transcribed."""

    NO_AUDIO = "no_audio"  # nothing to transcribe (no reply, or a reply to no audio)
    NO_PAYER = "no_payer"  # asked on behalf of a chat, and no sponsor pays
    NO_MINUTES = "no_minutes"  # the payer's minutes do not cover it


@attrs.frozen
class Incoming:
    """A message, as far as the decision goes.

    ``media`` is the audio the message carries; for a ``/transcribe`` request, the audio
    of the message it replies to (``None``: no reply, or a reply to no audio).
    """

    chat_type: ChatType
    sender: Sender
    media: MediaKind | None
    requested: bool = False


@attrs.frozen
class Decision:
    action: Action
    payer_id: int | None = None  # with TRANSCRIBE: whose minutes pay
    reason: Reason | None = None  # with EXPLAIN
    show_status: bool = True  # a status message while it works (not in a silent chat)


IGNORE = Decision(Action.IGNORE)


@attrs.define
class Chat:
    """A group's settings. ``sponsor_id`` set: the sponsor pays; ``None``: requesters do."""

    chat_id: int
    mode: ChatMode = ChatMode.ON_REQUEST
    silent: bool = False
    include_files: bool = False
    sponsor_id: int | None = None
    version: int = 0
    events: list[Event] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def payer(self) -> Payer:
        return Payer.REQUESTER if self.sponsor_id is None else Payer.SPONSOR

    def same_settings_as(self, other: Chat) -> bool:
        return _settings(self) == _settings(other)

    def set_mode(self, mode: ChatMode) -> None:
        self.mode = mode

    def set_silent(self, silent: bool) -> None:
        self.silent = silent

    def set_include_files(self, include_files: bool) -> None:
        self.include_files = include_files

    def let_sponsor_pay(self, sponsor_id: int) -> None:
        """``sponsor_id`` (an admin, a person: see ``may_sponsor``) pays from now on."""
        self.sponsor_id = sponsor_id

    def let_requesters_pay(self) -> None:
        self.sponsor_id = None

    def who_pays(self, requester: Sender) -> int | None:
        """The account charged for what ``requester`` asked (or sent, in ``auto``);
        ``None`` when nobody can be: no sponsor, and the requester is not a person."""
        if self.sponsor_id is not None:
            return self.sponsor_id
        return requester.user_id if requester.is_person else None

    def sponsor_ran_out(self) -> bool:
        """The sponsor's minutes did not cover a note: back to ``on request``, each
        requester paying. ``True`` (and ``SponsorRanOut`` recorded) only the first time
        since the sponsorship began, so the sponsor is told once."""
        if self.sponsor_id is None:
            return False
        self.events.append(SponsorRanOut(self.chat_id, self.sponsor_id))
        self.sponsor_id = None
        self.mode = ChatMode.ON_REQUEST
        return True

    def migrated_to(self, new_chat_id: int) -> Chat:
        """The same settings under the supergroup's id (a new record: version 0)."""
        return attrs.evolve(self, chat_id=new_chat_id, version=0, events=[])


def _settings(chat: Chat) -> tuple[object, ...]:
    return (chat.mode, chat.silent, chat.include_files, chat.sponsor_id)


def may_change_settings(
    chat_type: ChatType, chat_id: int, sender: Sender, status: MemberStatus | None
) -> bool:
    """Whether ``sender`` may change the chat's settings. ``status`` is the sender's
    standing from ``getChatMember`` (``None``: not looked up, or the lookup failed).

    In a private chat, its user; in a group, its administrators, and an anonymous admin
    (a message on behalf of the group itself: only administrators can send those). A
    channel speaking in a group (a linked channel's post) is not an administrator.
    """
    if chat_type is ChatType.PRIVATE:
        return sender.is_person and sender.user_id == chat_id
    if not chat_type.is_group:
        return False
    if sender.sender_chat_id is not None:
        return sender.acts_as(chat_id)
    return status is not None and status.is_admin


def may_sponsor(
    chat_type: ChatType, chat_id: int, sender: Sender, status: MemberStatus | None
) -> bool:
    """An administrator of a group who is a person (an anonymous admin has no minutes)."""
    return (
        chat_type.is_group
        and sender.is_person
        and may_change_settings(chat_type, chat_id, sender, status)
    )


def decide(chat: Chat, message: Incoming) -> Decision:
    """What to do with ``message`` in ``chat`` (for a private chat, any ``Chat`` with the
    user's id: its settings are not read)."""
    if message.chat_type is ChatType.PRIVATE:
        return _decide_private(message)
    if not message.chat_type.is_group:
        return IGNORE
    if message.media is None:
        return Decision(Action.EXPLAIN, reason=Reason.NO_AUDIO) if message.requested else IGNORE
    if not (message.requested or _auto_takes(chat, message.media)):
        return IGNORE
    payer = chat.who_pays(message.sender)
    if payer is None:
        return Decision(Action.EXPLAIN, reason=Reason.NO_PAYER) if message.requested else IGNORE
    return Decision(Action.TRANSCRIBE, payer_id=payer, show_status=not chat.silent)


def _decide_private(message: Incoming) -> Decision:
    if message.media is None:
        return Decision(Action.EXPLAIN, reason=Reason.NO_AUDIO)
    return Decision(Action.TRANSCRIBE, payer_id=message.sender.user_id)


def _auto_takes(chat: Chat, media: MediaKind) -> bool:
    return chat.mode is ChatMode.AUTO and (media in NOTES or chat.include_files)


def charge(
    chat: Chat,
    message: Incoming,
    reservation_id: str,
    minutes: int,
    accounts: Mapping[int, MinutesAccount],
) -> Decision:
    """Decide, and reserve ``minutes`` under ``reservation_id`` on the payer's account.

    ``accounts`` holds the accounts that may pay, read just now: the chat's sponsor's and
    the sender's (an account missing from it cannot pay). When the sponsor's minutes fall
    short, the chat falls back (``Chat.sponsor_ran_out``) and the message is decided
    again. Returns the final decision: TRANSCRIBE when the payer's account now holds the
    reservation; EXPLAIN with ``NO_MINUTES`` when a requester (or a private sender) is
    short of minutes; IGNORE when the short sender of an ``auto`` note never asked. The
    caller saves the account that was charged and, when it recorded events, the chat
    (both version-checked; on a conflict, read again and start over).
    """
    decision = decide(chat, message)
    while decision.action is Action.TRANSCRIBE and decision.payer_id is not None:
        account = accounts.get(decision.payer_id)
        try:
            if account is None:
                raise InsufficientMinutes(minutes, 0)
            account.reserve(reservation_id, minutes)
        except InsufficientMinutes:
            if decision.payer_id == chat.sponsor_id and chat.sponsor_ran_out():
                decision = decide(chat, message)
                continue
            if message.requested or message.chat_type is ChatType.PRIVATE:
                return attrs.evolve(decision, action=Action.EXPLAIN, reason=Reason.NO_MINUTES)
            return IGNORE  # a note nobody asked for: no error in the group
        return decision
    return decision


def request_key(chat_id: int, message_id: int) -> str:
    """The id of a message's transcription job: the chat and message id of the audio
    itself (for a ``/transcribe`` reply, of the message replied to), so that the same
    audio message is transcribed once however often it is asked for. The same string
    the Telegram entrypoint already uses for the audio it receives."""
    return f"tg:{chat_id}:{message_id}"
