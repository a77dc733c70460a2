"""Group chats end to end (#15): every case twice, the bot polling the Bot API fake and
behind the webhook (updates posted as Telegram would), with the real SQLite stores.

On request, only a ``/transcribe`` reply is transcribed (its sender pays, a second request
is free); ``auto`` transcribes notes and is silent about everything else; a sponsor pays
until their minutes run out, then is told privately once; ``/balance`` is answered in
private (or with a link when Telegram forbids writing first); a busy group gets every
result within Telegram's per-group rate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from domain.chats import Chat, ChatMode
from tests.e2e.conftest import BotUnderTest, RunningBot
from tests.e2e.test_telegram_bot import scripted
from tests.fakes.telegram._updates import chat_json, command_entities, message_json, user_json
from tests.media_clips import SAMPLES

GROUP = -100_1500
MEMBER = 5001  # sends the notes
ASKER = 5002  # replies /transcribe
OTHER = 5003
SPONSOR = 5004
WORDS = "the words of the note"
NOTE = (SAMPLES / "en-weather.ogg").read_bytes()


async def push_group(bot: BotUnderTest, user: int, **content: Any) -> dict[str, Any]:
    """A message from ``user`` in the group, handed to the bot as Telegram would."""
    sender = user_json(user, f"User {user}", "en", None)
    chat = chat_json(GROUP, sender)
    message = message_json(bot.fake.next_message_id(GROUP, None), sender, chat, **content)
    update = bot.fake.push_raw({"message": message})
    await bot.deliver(update)
    return dict(update["message"])


async def push_command(
    bot: BotUnderTest, user: int, command: str, reply_to: dict[str, Any] | None = None
) -> dict[str, Any]:
    return await push_group(
        bot, user, text=command, entities=command_entities(command), reply_to_message=reply_to
    )


async def push_note(bot: BotUnderTest, user: int = MEMBER, duration: int = 10) -> dict[str, Any]:
    update = bot.fake.push_voice(user, GROUP, bot.fake.register_file(NOTE), duration)
    await bot.deliver(update)
    return dict(update["message"])


def answers_to(fake: Any, message_id: int, chat_id: int = GROUP) -> list[str]:
    return [
        m.plain_text
        for m in fake.sent_messages(chat_id)
        if not m.deleted and m.reply_to_message_id == message_id
    ]


async def all_handled(bot: RunningBot | BotUnderTest) -> None:
    """Every update pushed so far fetched and handled (none left unfinished in the inbox)."""
    inbox = bot.container.processed_updates()

    async def handled() -> bool:
        polled = isinstance(bot, RunningBot) or bot.mode == "polling"
        if polled and bot.fake.pending_updates():
            return False  # the webhook's updates are posted, never fetched
        return not await inbox.unfinished(time.time() + 3600, 10)

    deadline = time.monotonic() + 60
    while not await handled():
        assert time.monotonic() < deadline, "updates still unhandled after 60 s"
        await asyncio.sleep(0.05)


async def set_chat(bot: BotUnderTest, chat: Chat) -> None:
    await bot.container.chats().save(chat)


async def test_on_request_only_a_transcribe_reply_is_transcribed_and_its_sender_pays(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    _, prepare = scripted(WORDS)
    bot = await bot_in_each_mode(prepare)
    fake = bot.fake
    note = await push_note(bot)
    unasked = await push_note(bot)
    command = await push_command(bot, ASKER, "/transcribe", reply_to=note)

    await fake.wait_for_async(lambda: WORDS in answers_to(fake, note["message_id"]), timeout=60)
    assert await bot.settled(60)
    await all_handled(bot)
    assert answers_to(fake, note["message_id"]) == [WORDS], "a reply to the note, status gone"
    minutes = bot.container.use_cases().minutes
    assert await minutes.balance_of(ASKER) == 14, "the /transcribe sender paid"
    assert await bot.container.accounts().get(MEMBER) is None, "the note's sender did not"
    assert answers_to(fake, unasked["message_id"]) == []
    assert answers_to(fake, command["message_id"]) == [], "no word to the command itself"
    assert await bot.container.jobs().get(f"tg:{GROUP}:{unasked['message_id']}") is None


async def test_a_second_transcribe_gets_the_stored_text_free(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    _, prepare = scripted(WORDS)
    bot = await bot_in_each_mode(prepare)
    fake = bot.fake
    note = await push_note(bot)
    await push_command(bot, ASKER, "/transcribe@voicescribe_test_bot", reply_to=note)
    await fake.wait_for_async(lambda: WORDS in answers_to(fake, note["message_id"]), timeout=60)
    await push_command(bot, OTHER, "/transcribe", reply_to=note)

    await fake.wait_for_async(
        lambda: answers_to(fake, note["message_id"]).count(WORDS) == 2, timeout=60
    )
    await all_handled(bot)
    assert answers_to(fake, note["message_id"]) == [WORDS, WORDS]
    assert await bot.container.accounts().get(OTHER) is None, "the second request is free"


async def test_transcribe_without_audio_gets_a_one_line_hint(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    bot = await bot_in_each_mode()
    fake = bot.fake
    alone = await push_command(bot, ASKER, "/transcribe")
    chatter = await push_group(bot, MEMBER, text="just words")
    on_text = await push_command(bot, ASKER, "/transcribe@voicescribe_test_bot", reply_to=chatter)

    hint = "Reply /transcribe to a voice message, audio or video and I will send its text."
    for command in (alone, on_text):
        answers = await fake.wait_for_async(
            lambda c=command: answers_to(fake, c["message_id"]), timeout=30
        )
        assert answers == [hint]
    await all_handled(bot)
    assert len(fake.sent_messages(GROUP)) == 2


async def test_auto_silent_transcribes_notes_and_says_nothing_else(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    _, prepare = scripted(WORDS)
    bot = await bot_in_each_mode(prepare)
    fake = bot.fake
    await set_chat(bot, Chat(GROUP, mode=ChatMode.AUTO, silent=True))
    pdf = fake.media_json(fake.register_file(b"%PDF-1.4 not audio"))
    await push_group(
        bot, MEMBER, document=pdf | {"mime_type": "application/pdf", "file_name": "a.pdf"}
    )
    gif = fake.media_json(fake.register_file(b"GIF89a"))
    gif |= {"mime_type": "image/gif", "file_name": "a.gif"}
    await push_group(
        bot, MEMBER, animation=gif | {"width": 1, "height": 1, "duration": 1}, document=gif
    )
    await push_group(bot, MEMBER, text="hello all")
    await push_command(bot, MEMBER, "/frobnicate")
    note = await push_note(bot)

    await fake.wait_for_async(lambda: answers_to(fake, note["message_id"]), timeout=60)
    await all_handled(bot)
    sent = fake.sent_messages(GROUP)
    assert [m.plain_text for m in sent] == [WORDS], "silent: no status, no error, no hint"
    assert sent[0].reply_to_message_id == note["message_id"]
    assert await bot.container.use_cases().minutes.balance_of(MEMBER) == 14


async def test_the_sponsor_pays_then_runs_out_and_is_told_privately_once(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    _, prepare = scripted(WORDS)
    bot = await bot_in_each_mode(prepare, TRIAL_MINUTES="2")
    fake = bot.fake
    await set_chat(bot, Chat(GROUP, mode=ChatMode.AUTO, sponsor_id=SPONSOR))
    paid = await push_note(bot, MEMBER, duration=10)
    await fake.wait_for_async(lambda: WORDS in answers_to(fake, paid["message_id"]), timeout=60)
    await all_handled(bot)
    minutes = bot.container.use_cases().minutes
    assert await minutes.balance_of(SPONSOR) == 1
    assert await bot.container.accounts().get(MEMBER) is None

    too_long = await push_note(bot, MEMBER, duration=90)  # 2 minutes: more than the sponsor has
    await fake.wait_for_async(lambda: fake.sent_messages(SPONSOR), timeout=30)
    later = await push_note(bot, MEMBER, duration=10)
    await all_handled(bot)

    told = [m.plain_text for m in fake.sent_messages(SPONSOR)]
    assert len(told) == 1 and "no longer cover" in told[0], told
    chat = await bot.container.chats().get(GROUP)
    assert chat is not None and (chat.mode, chat.sponsor_id) == (ChatMode.ON_REQUEST, None)
    assert answers_to(fake, too_long["message_id"]) == []
    assert answers_to(fake, later["message_id"]) == [], "back on request: not transcribed"
    assert await minutes.balance_of(SPONSOR) == 1, "never negative, nothing more taken"


async def test_balance_in_a_group_is_answered_privately_or_with_a_link(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    bot = await bot_in_each_mode()
    fake = bot.fake
    fake.blocked_chats.add(OTHER)  # never started the bot: Telegram answers 403
    await push_command(bot, ASKER, "/balance")
    asked = await push_command(bot, OTHER, "/balance")
    await push_command(bot, ASKER, "/buy_minutes")

    await fake.wait_for_async(lambda: len(fake.sent_messages(ASKER)) == 2, timeout=30)
    link = await fake.wait_for_async(lambda: answers_to(fake, asked["message_id"]), timeout=30)
    await all_handled(bot)
    private = fake.sent_messages(ASKER)
    assert private[0].plain_text.startswith("Minutes left: 15.") or private[
        1
    ].plain_text.startswith("Minutes left: 15.")
    assert any(m.reply_markup for m in private), "the Buy buttons, in private"
    assert link == [
        "I can't write to you first: open https://t.me/voicescribe_test_bot?start=balance, "
        "press Start and ask again."
    ]
    group = [m.plain_text for m in fake.sent_messages(GROUP)]
    assert group == link, "nothing about minutes in the group"


async def test_thirty_notes_in_a_minute_all_get_their_text_within_the_group_rate(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    _, prepare = scripted(WORDS)
    bot = await bot_in_each_mode(
        prepare, RATE_LIMIT_PER_MINUTE="100", TELEGRAM_GROUP_MESSAGES_PER_MINUTE="20"
    )
    fake = bot.fake
    await set_chat(bot, Chat(GROUP, mode=ChatMode.AUTO, silent=True))
    notes = [await push_note(bot, MEMBER + n % 3) for n in range(30)]
    ids = {note["message_id"] for note in notes}

    def results() -> list[Any]:
        return [m for m in fake.sent_messages(GROUP) if m.reply_to_message_id in ids]

    await fake.wait_for_async(lambda: len(results()) == 30, timeout=300, message="30 results")
    assert {m.reply_to_message_id for m in results()} == ids
    times = sorted(m.time for m in results())
    # 20 at once, then one every 3 s: the 30th no sooner than ~30 s after the first.
    assert times[-1] - times[0] >= 25, "throttled to the group's rate"


async def test_a_forwarded_note_says_whose_words_it_carries(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    _, prepare = scripted(WORDS)
    bot = await bot_in_each_mode(prepare)
    fake = bot.fake
    await set_chat(bot, Chat(GROUP, mode=ChatMode.AUTO, silent=True))
    original = user_json(OTHER, "Ada Lovelace", "en", None)
    origin = {"type": "user", "date": int(time.time()), "sender_user": original}
    own = {"type": "user", "date": int(time.time()), "sender_user": user_json(MEMBER, "Me", None)}
    forwarded: list[tuple[int, int]] = []
    for chat, origin_of in ((GROUP, origin), (MEMBER, origin), (MEMBER, own)):
        sender = user_json(MEMBER, "Forwarder", "en", None)
        voice = fake.media_json(fake.register_file(NOTE)) | {"duration": 10}
        message = message_json(
            fake.next_message_id(chat, None),
            sender,
            chat_json(chat, sender),
            voice=voice,
            forward_origin=origin_of,
        )
        await bot.deliver(fake.push_raw({"message": message}))
        forwarded.append((message["message_id"], chat))

    for message_id, chat in forwarded:
        await fake.wait_for_async(
            lambda m=message_id, c=chat: any(WORDS in a for a in answers_to(fake, m, c)),
            timeout=60,
        )
    shown = [next(a for a in answers_to(fake, m, c) if WORDS in a) for m, c in forwarded]
    assert shown[:2] == [f"From: Ada Lovelace\n\n{WORDS}"] * 2, "in a group and in private"
    assert shown[2] == WORDS, "forwarded from oneself: no header"


async def test_auto_without_silent_shows_a_status_then_the_text(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    _, prepare = scripted(WORDS)
    bot = await bot_in_each_mode(prepare)
    fake = bot.fake
    await set_chat(bot, Chat(GROUP, mode=ChatMode.AUTO))
    note = await push_note(bot)

    await fake.wait_for_async(lambda: answers_to(fake, note["message_id"]) == [WORDS], timeout=60)
    await all_handled(bot)
    replies = [m for m in fake.sent_messages(GROUP) if m.reply_to_message_id == note["message_id"]]
    status = [m for m in replies if m.plain_text != WORDS]
    assert status and all(m.deleted for m in status), "a status while working, gone after"
    assert await bot.container.use_cases().minutes.balance_of(MEMBER) == 14, "the sender paid"
