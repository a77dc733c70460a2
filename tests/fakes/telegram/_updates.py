"""Pieces of realistic Update JSON (users, chats, messages, media) for the Telegram fake."""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.telegram._html import utf16_length

# The update kinds Telegram leaves out unless they are asked for in allowed_updates.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def user_json(
    user_id: int, first_name: str, language_code: str | None, username: str | None = None
) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if username is not None:
        user["username"] = username
    if language_code is not None:
        user["language_code"] = language_code
    return user


def chat_json(chat_id: int, user: dict[str, Any], chat_type: str | None = None) -> dict[str, Any]:
    """A private chat with ``user`` for a positive id, a supergroup for a negative one."""
    kind = chat_type or ("private" if chat_id > 0 else "supergroup")
    if kind == "private":
        chat = {"id": chat_id, "type": kind, "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        return chat
    return {"id": chat_id, "type": kind, "title": f"Test group {chat_id}"}


def message_json(
    message_id: int, user: dict[str, Any], chat: dict[str, Any], **content: Any
) -> dict[str, Any]:
    message = {"message_id": message_id, "from": user, "chat": chat, "date": int(time.time())}
    message.update({key: value for key, value in content.items() if value is not None})
    return message


def command_entities(text: str) -> list[dict[str, Any]] | None:
    """The ``bot_command`` entity Telegram adds to a message starting with ``/``."""
    if not text.startswith("/"):
        return None
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]


# Every right an administrator may hold, as getChatMember and chat_member updates list them.
ADMIN_RIGHTS = (
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)
RESTRICTED_RIGHTS = (
    "is_member",
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)


def chat_member_json(user: dict[str, Any], status: str) -> dict[str, Any]:
    """A ``ChatMember`` of the given status (creator, administrator, member, restricted,
    left, kicked) with the fields Telegram sends for it."""
    member: dict[str, Any] = {"user": user, "status": status}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update({right: right != "is_anonymous" for right in ADMIN_RIGHTS})
        member["can_be_edited"] = False
    elif status == "restricted":
        member.update({right: right == "is_member" for right in RESTRICTED_RIGHTS})
        member["until_date"] = 0
    elif status == "kicked":
        member["until_date"] = 0
    return member


def update_kind(update: dict[str, Any]) -> str:
    """The update's type: its only key besides ``update_id``."""
    return next((key for key in update if key != "update_id"), "")


def is_allowed(update: dict[str, Any], allowed_updates: list[str] | None) -> bool:
    kind = update_kind(update)
    if not allowed_updates:
        return kind not in OPT_IN_UPDATES
    return kind in allowed_updates
