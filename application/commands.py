"""Commands: what an entrypoint asks the application to do, as plain data (no SDK types).

Each command has exactly one handler; its errors propagate to the caller.
"""

from __future__ import annotations

from enum import StrEnum

import attrs

from domain.chats import ChatType, MemberStatus, Sender
from domain.jobs import AudioSource, OutputMode, UserStyle
from domain.transcript_actions import ActionRequest


@attrs.frozen
class Command:
    """Base of every command."""


@attrs.frozen
class AcceptVoiceNote(Command):
    """A user sent audio. ``request_id`` identifies the sending (e.g. chat and message id)
    so that the same update delivered twice becomes one job; it becomes the job id."""

    request_id: str
    user_id: int
    chat_id: int
    source: AudioSource
    style: UserStyle = attrs.Factory(UserStyle)
    charge: bool = True
    reply_to_message_id: int | None = None
    status_message_id: int | None = None
    # Over the user's rate limit: queued (even if short) to start this much later, after
    # the work others send meanwhile (``domain.rate_limit.Window.defer``).
    defer_seconds: float = 0.0


@attrs.frozen
class StopJob(Command):
    """The Stop button under a job's status message, pressed by ``user_id``."""

    job_id: str
    user_id: int


@attrs.frozen
class ProcessJob(Command):
    """Turn a stored job's audio into delivered text (inline, or from the queue)."""

    job_id: str
    delivery_count: int = 1


class Setting(StrEnum):
    """A user setting that flips between two values."""

    YO = "yo"
    CODE = "code"
    OUTPUT = "output"


@attrs.frozen
class ToggleSetting(Command):
    user_id: int
    setting: Setting


@attrs.frozen
class SetRecognitionLanguage(Command):
    """``None`` means: detect the language of each recording."""

    user_id: int
    language: str | None


@attrs.frozen
class BuyMinutes(Command):
    user_id: int
    chat_id: int
    package_id: str
    language_code: str | None = None


@attrs.frozen
class ApproveCheckout(Command):
    """Telegram's pre-checkout query: answer within 10 s whether the payment may proceed."""

    buyer_id: int
    payload: str
    currency: str
    total_amount: int


@attrs.frozen
class CompletePayment(Command):
    """Telegram's ``successful_payment``; ``charge_id`` is its idempotency key."""

    buyer_id: int
    charge_id: str
    payload: str
    currency: str
    total_amount: int


@attrs.frozen
class GrantMinutes(Command):
    """The owner's ``/credit``."""

    user_id: int
    minutes: int


@attrs.frozen
class RefundPayment(Command):
    charge_id: str


@attrs.frozen
class FlushStuckJobs(Command):
    """Fail jobs unfinished for longer than ``older_than_seconds``, releasing their minutes."""

    older_than_seconds: float


@attrs.frozen
class SweepStuckJobs(Command):
    """Requeue or fail jobs untouched for ``older_than_seconds`` with no live claim."""

    older_than_seconds: float


@attrs.frozen
class SetSetting(Command):
    """Set a two-valued setting to a given value (for ``OUTPUT``, on means a .txt file).

    Unlike ``ToggleSetting``, doing it twice changes nothing: a tap retried after a failed
    redraw, or a tap on a keyboard drawn before another change, lands where it says."""

    user_id: int
    setting: Setting
    enabled: bool


@attrs.frozen
class SetOutput(Command):
    """Choose how transcripts reach the user (``/output``): one of the output modes, so a
    repeated command changes nothing."""

    user_id: int
    mode: OutputMode


@attrs.frozen
class SendStoredOutput(Command):
    """Send a delivered job's transcript again in another output mode (a button under a
    long recording's text), made from the stored transcript: no recognition, no charge.
    ``user_id`` is who asked: only the job's owner may."""

    job_id: str
    user_id: int
    mode: OutputMode


class ChatSetting(StrEnum):
    """A group chat's setting, each with two values (``ChangeChatSettings.enabled``)."""

    AUTO = "auto"  # on: every voice and video note; off: on request (``/transcribe``)
    SILENT = "silent"  # on: no status message, only the result
    FILES = "files"  # on: ``auto`` takes audio and video files too
    SPONSOR = "sponsor"  # on: the admin who turns it on pays; off: whoever asks


@attrs.frozen
class ChangeChatSettings(Command):
    """Somebody in a group pressed a settings button (or sent ``/chatsettings`` with a
    value). ``member_status`` is their standing from ``getChatMember`` (``None``: not
    looked up, or unknown); ``sender`` says whether they act as the group itself (an
    anonymous admin). Like ``SetSetting``, it sets a value: done twice, it lands once."""

    chat_id: int
    chat_type: ChatType
    sender: Sender
    member_status: MemberStatus | None
    setting: ChatSetting
    enabled: bool


@attrs.frozen
class MigrateChat(Command):
    """A group became a supergroup (``migrate_to_chat_id`` / ``migrate_from_chat_id``):
    its settings move to the new id. Telegram announces it in both chats; either does."""

    old_chat_id: int
    new_chat_id: int


@attrs.frozen
class ForgetUserData(Command):
    """The user confirmed ``/forget``: erase their transcripts, the cached results and
    their settings (never payments or minutes). Done twice, the second finds nothing."""

    user_id: int


@attrs.frozen
class SweepExpiredTranscripts(Command):
    """Erase the transcripts past ``TRANSCRIPT_RETENTION_DAYS``; run by every sweep, at
    most hourly in a process (``handlers/retention.py``)."""


@attrs.frozen
class RunTranscriptAction(Command):
    """A button under a delivered transcript was pressed: ``handle`` is the opaque id the
    button carries (``domain.transcript_actions.action_handle``), ``user_id`` who pressed."""

    handle: str
    user_id: int
    request: ActionRequest
