"""A user's standing in a chat (``getChatMember``), remembered for a minute.

Why: who may change a group's settings is checked on every button press, and an admin
pressing three buttons in a row should not cost three Bot API calls against the group's
limits. A minute is short enough that a demoted admin soon loses the keyboard, and long
enough for one round of changes. Only the standing is remembered, never the decision
(``domain.chats.may_change_settings`` makes it each time).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from telegram import Bot
from telegram.error import BadRequest

from domain.chats import MemberStatus

log = logging.getLogger(__name__)

STATUS_TTL_SECONDS = 60.0
MAX_REMEMBERED = 10_000  # (chat, user) pairs; the oldest are forgotten first


class MemberStatuses:
    def __init__(
        self,
        *,
        ttl_seconds: float = STATUS_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        max_remembered: int = MAX_REMEMBERED,
    ) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._max = max_remembered
        self._known: OrderedDict[tuple[int, int], tuple[float, MemberStatus | None]] = OrderedDict()

    async def of(self, bot: Bot, chat_id: int, user_id: int) -> MemberStatus | None:
        """The user's standing; ``None`` when Telegram does not know them in this chat (a
        400). Other failures (the network, throttling past the limiter's retries) raise:
        the press is retried with its update rather than refused on a guess."""
        key = (chat_id, user_id)
        now = self._clock()
        remembered = self._known.get(key)
        if remembered is not None and now - remembered[0] < self._ttl:
            return remembered[1]
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except BadRequest as error:
            log.info("no standing of user %s in chat %s: %s", user_id, chat_id, error)
            status = None
        else:
            status = _status(member.status)
        self._known[key] = (now, status)
        self._known.move_to_end(key)
        while len(self._known) > self._max:
            self._known.popitem(last=False)
        return status


def _status(raw: str) -> MemberStatus | None:
    try:
        return MemberStatus(raw)
    except ValueError:
        return None
