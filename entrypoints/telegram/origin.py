"""Whose words a forwarded note carries: the name for the transcript's "From:" line.

Why this exists: a forwarded voice note's transcript reads as the forwarder's own words
unless it says whose they are. Telegram's ``forward_origin`` names the original sender as
a user, a hidden user (a name only), a chat or a channel; a note the sender forwarded
from themselves needs no header.
"""

from __future__ import annotations

from telegram import (
    Message,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
)


def forwarded_from(message: Message) -> str | None:
    """The original sender's name when ``message`` was forwarded from someone else."""
    origin = message.forward_origin
    if isinstance(origin, MessageOriginUser):
        forwarder = message.from_user.id if message.from_user is not None else None
        return None if origin.sender_user.id == forwarder else origin.sender_user.full_name
    if isinstance(origin, MessageOriginHiddenUser):
        return origin.sender_user_name or None
    if isinstance(origin, MessageOriginChat):
        return origin.sender_chat.title or None
    if isinstance(origin, MessageOriginChannel):
        return origin.chat.title or None
    return None
