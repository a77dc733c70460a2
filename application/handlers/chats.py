"""Use case: audio in a group chat. Whether it is transcribed, on whose minutes, and a
second request for audio transcribed already.

The decision is the domain's (``domain.chats.charge``); this module feeds it freshly read
records and keeps what it changed. The payer's minutes are not reserved here: ``charge``
runs on copies of the accounts, only to learn who can pay and whether the sponsor ran
out, and the job's accept (``AcceptVoiceHandler``) reserves them on the stored account
under the job's id, exactly once, as in a private chat. A sponsor running out is saved
with the chat (version-checked, read again on a conflict), so the chat falls back to
``on request`` once and the sponsor is told once.
"""

from __future__ import annotations

import copy

import attrs

from application.errors import ConcurrentUpdate, StorageError
from application.minutes import MinutesBook
from application.ports import ChatRepository, JobRepository, Messenger
from domain.chats import Chat, Decision, Incoming, charge
from domain.events import SponsorRanOut
from domain.jobs import JobStatus
from domain.ledger import MinutesAccount
from domain.policies import price_minutes


@attrs.frozen
class GroupCharge:
    """What to do with a message in a group; ``sponsor_to_tell``: the sponsor whose
    minutes just ran out (tell them privately, this once), else ``None``."""

    decision: Decision
    sponsor_to_tell: int | None = None


class GroupChats:
    def __init__(
        self,
        *,
        chats: ChatRepository,
        minutes: MinutesBook,
        jobs: JobRepository,
        messenger: Messenger,
        attempts: int = 20,
    ) -> None:
        self._chats = chats
        self._minutes = minutes
        self._jobs = jobs
        self._messenger = messenger
        self._attempts = attempts

    async def settings(self, chat_id: int) -> Chat:
        """The chat's settings; a chat never saved has the defaults."""
        return await self._chats.get(chat_id) or Chat(chat_id)

    async def decide(
        self, chat_id: int, message: Incoming, reservation_id: str, duration: float | None
    ) -> GroupCharge:
        """Whether (and on whose minutes) ``message`` is transcribed in this chat, the
        sponsor's fallback saved when their minutes do not cover it."""
        needed = price_minutes(duration) if duration is not None else 1
        for _ in range(self._attempts):
            chat = await self.settings(chat_id)
            accounts = await self._accounts_that_may_pay(chat, message)
            decision = charge(chat, message, reservation_id, needed, accounts)
            ran_out = [e.sponsor_id for e in chat.events if isinstance(e, SponsorRanOut)]
            if not ran_out:
                return GroupCharge(decision)
            try:
                await self._chats.save(chat)
            except ConcurrentUpdate:
                continue  # an admin changed the chat meanwhile: decide on what is stored
            return GroupCharge(decision, sponsor_to_tell=ran_out[0])
        raise StorageError(f"chat {chat_id} is too busy to update", transient=True)

    async def sponsor_ran_out(self, chat_id: int, sponsor_id: int) -> bool:
        """The sponsor's account refused a job's minutes after all (spent meanwhile): the
        chat falls back. ``True`` when this call did it (tell the sponsor), ``False``
        when the chat had another sponsor or none by then."""
        for _ in range(self._attempts):
            chat = await self.settings(chat_id)
            if chat.sponsor_id != sponsor_id or not chat.sponsor_ran_out():
                return False
            try:
                await self._chats.save(chat)
            except ConcurrentUpdate:
                continue
            return True
        raise StorageError(f"chat {chat_id} is too busy to update", transient=True)

    async def send_again(self, job_id: str, reply_to_message_id: int | None) -> bool:
        """A second request for audio transcribed before: its stored transcript once more,
        free (nothing is reserved or saved). ``False`` while there is none yet (the job
        is still at work: its answer is on the way) or the job did not end in text."""
        job = await self._jobs.get(job_id)
        if job is None or job.status is not JobStatus.DELIVERED or not job.transcript:
            return False
        again = attrs.evolve(
            job, parts_sent=0, status_message_id=None, reply_to_message_id=reply_to_message_id
        )
        await self._messenger.deliver(again, job.transcript)
        return True

    async def _accounts_that_may_pay(
        self, chat: Chat, message: Incoming
    ) -> dict[int, MinutesAccount]:
        """Copies of the sponsor's and the sender's accounts (an account never opened has
        its trial waiting), for ``charge`` to try its reservation on."""
        payers = {chat.sponsor_id} if chat.sponsor_id is not None else set()
        if message.sender.is_person:
            payers.add(message.sender.user_id)
        accounts: dict[int, MinutesAccount] = {}
        for user_id in payers:
            stored = await self._minutes.account(user_id)
            if stored is None:
                stored = MinutesAccount(user_id)
                stored.grant_trial(self._minutes.trial_minutes)
            accounts[user_id] = copy.deepcopy(stored)
        return accounts
