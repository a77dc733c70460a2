"""The group-chat use case (``GroupChats``) on in-memory ports: the domain's ``charge``
fed fresh records, a sponsor's fallback saved once, a second request answered free."""

from __future__ import annotations

from application.commands import AcceptVoiceNote
from domain.chats import Action, Chat, ChatMode, ChatType, Incoming, Sender, request_key
from domain.jobs import AudioSource, MediaKind
from domain.ledger import MinutesAccount
from tests.application.conftest import World
from tests.application.in_memory import FakeAudio

GROUP = -100_42
MEMBER = 7
SPONSOR = 8
NOTE = Incoming(ChatType.SUPERGROUP, Sender(MEMBER), MediaKind.VOICE)


async def test_a_short_sponsor_falls_back_once_and_nothing_is_reserved(world: World) -> None:
    await world.chats.save(Chat(GROUP, mode=ChatMode.AUTO, sponsor_id=SPONSOR))
    world.accounts.rows[SPONSOR] = MinutesAccount(SPONSOR, balance=1, trial_granted=True)

    first = await world.app.chats.decide(GROUP, NOTE, "tg:-10042:1", 90.0)  # 2 minutes
    second = await world.app.chats.decide(GROUP, NOTE, "tg:-10042:2", 90.0)

    assert first.sponsor_to_tell == SPONSOR and first.decision.action is Action.IGNORE
    assert second.sponsor_to_tell is None, "told once"
    chat = world.chats.rows[GROUP]
    assert (chat.mode, chat.sponsor_id) == (ChatMode.ON_REQUEST, None)
    assert world.accounts.rows[SPONSOR].reservations == {}, "charge ran on copies only"
    assert MEMBER not in world.accounts.rows


async def test_a_sponsor_with_minutes_pays_and_a_request_falls_to_its_sender(world: World) -> None:
    await world.chats.save(Chat(GROUP, mode=ChatMode.AUTO, sponsor_id=SPONSOR))
    paid = await world.app.chats.decide(GROUP, NOTE, "k1", 30.0)
    assert (paid.decision.action, paid.decision.payer_id) == (Action.TRANSCRIBE, SPONSOR)

    await world.chats.save(requesters_paying(world.chats.rows[GROUP]))
    asked = Incoming(ChatType.SUPERGROUP, Sender(MEMBER), MediaKind.AUDIO, requested=True)
    decided = await world.app.chats.decide(GROUP, asked, "k2", 30.0)
    assert (decided.decision.action, decided.decision.payer_id) == (Action.TRANSCRIBE, MEMBER)


def requesters_paying(chat: Chat) -> Chat:
    chat.let_requesters_pay()
    return chat


async def test_a_second_request_gets_the_stored_text_again_free(world: World) -> None:
    world.files.files["n"] = FakeAudio(12.0, "group words")
    key = request_key(GROUP, 5)
    source = AudioSource(MediaKind.VOICE, "n", "u-n", 12.0)
    await world.app.bus.handle(AcceptVoiceNote(key, MEMBER, GROUP, source, reply_to_message_id=5))
    spent = world.accounts.rows[MEMBER].spent

    assert await world.app.chats.send_again(key, 5)
    assert world.messenger.delivered == [(key, "[local] group words")] * 2
    assert world.accounts.rows[MEMBER].spent == spent == 1
    assert not await world.app.chats.send_again(request_key(GROUP, 6), 6), "no such job"
