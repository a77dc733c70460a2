"""Hostile and broken input, end to end: the bot polling the Bot API fake.

For every case: the user gets one clear answer (the visible text is asserted), nothing is
charged (balance back at the trial, nothing reserved or spent), nothing is stored that a
later request could be served from, and the bot is still alive (a /start is answered).
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pytest

from domain.jobs import JobStatus, UserStyle
from entrypoints.cli.serve import serve
from entrypoints.composition.container import Channel, build_container
from entrypoints.composition.settings import load_settings
from tests.bounded_waits import finish
from tests.e2e.conftest import RunningBot
from tests.e2e.test_telegram_bot import USER, scripted, visible
from tests.fakes.telegram import TelegramFake
from tests.media_clips import SAMPLES, decode, encode, make_clips, silence

TRIAL = 15
START = "Send me a voice message, audio or video, and I will send back its text."
UNREADABLE = "This file could not be read as audio."
EMPTY = "This file is empty."
NO_SPEECH = "No speech found in this recording."
UNSUPPORTED = "I can only transcribe voice messages, audio and video (also sent as files)."
TEXT_FILE = b"Meeting notes, not audio at all.\nSecond line & <b>markup</b>.\n" * 40


# --- media made at test time -----------------------------------------------------------


@cache
def clips() -> dict[str, bytes]:
    return make_clips((SAMPLES / "en-weather.ogg").read_bytes())


@cache
def speech_of(seconds: float) -> bytes:
    """An OGG/Opus voice note of ``seconds`` (the sample's speech, repeated)."""
    rate = 48_000
    speech = decode(clips()["ogg"], rate)
    repeated = np.tile(speech, int(seconds * rate) // speech.size + 1)[: int(seconds * rate)]
    return encode(repeated.astype(np.float32), rate, "ogg", "libopus")


def corrupted_ogg() -> bytes:
    """The voice note with its header zeroed and a stretch in the middle flipped."""
    data = bytearray(clips()["ogg"])
    middle = len(data) // 2
    for index in range(middle, middle + 512):
        data[index] ^= 0xFF
    data[:64] = bytes(64)
    return bytes(data)


def truncated_mp3() -> bytes:
    """ID3 and the Xing header, no complete audio frame."""
    return clips()["mp3"][:600]


def truncated_mp4() -> bytes:
    """The first half: the ``moov`` index PyAV writes at the end is gone."""
    mp4 = clips()["mp4"]
    return mp4[: len(mp4) // 2]


def video_without_audio() -> bytes:
    return encode(decode(clips()["ogg"], 16_000), 16_000, "mp4", None, video=True)


# --- what every case must leave behind -------------------------------------------------


async def answered(
    bot: RunningBot, expected: str | frozenset[str], user: int = USER, within: float = 30
) -> None:
    """Exactly one visible message in the chat, and it says ``expected`` (or one of)."""
    accepted = {expected} if isinstance(expected, str) else set(expected)
    await bot.fake.wait_for_async(
        lambda: accepted & set(visible(bot, user)), timeout=within, message=repr(expected)
    )
    await bot.fake.wait_for_async(lambda: not bot.fake.pending_updates())
    shown = visible(bot, user)
    assert len(shown) == 1 and shown[0] in accepted, shown


async def settled(bot: RunningBot, user: int = USER, within: float = 15) -> None:
    """Every job of ``user`` finished and no minute left reserved (or an AssertionError)."""
    deadline = time.monotonic() + within
    while True:
        jobs = await bot.container.jobs().list_by_user(user, 50)
        account = await bot.container.accounts().get(user)
        if all(job.status.is_finished for job in jobs) and not (account and account.reserved):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not settled after {within} s: {account}, {jobs}")
        await asyncio.sleep(0.02)


async def nothing_charged(bot: RunningBot, user: int = USER) -> None:
    await settled(bot, user)
    account = await bot.container.accounts().get(user)
    if account is not None:
        assert (account.balance, account.reserved, account.spent) == (TRIAL, 0, 0), account


async def nothing_stored(bot: RunningBot, file_unique_id: str | None, user: int = USER) -> None:
    """No job left unfinished or delivered, no transcript, nothing the cache could serve."""
    for job in await bot.container.jobs().list_by_user(user, 50):
        assert job.status in (JobStatus.FAILED, JobStatus.NO_SPEECH), job
        assert not job.transcript, job
    if file_unique_id is not None:
        assert await bot.container.jobs().find_transcript(file_unique_id, UserStyle()) is None


async def still_answers(bot: RunningBot, user: int = USER, within: float = 15) -> None:
    def starts() -> int:
        return len([t for t in visible(bot, user) if t.startswith(START)])

    before = starts()
    bot.fake.push_text(user, user, "/start")
    await bot.fake.wait_for_async(lambda: starts() == before + 1, timeout=within, message="/start")


def unique_id(update: dict[str, Any]) -> str:
    message = update["message"]
    for kind in ("voice", "audio", "video", "video_note", "document"):
        if kind in message:
            return str(message[kind]["file_unique_id"])
    raise AssertionError("no media in the update")


# --- broken files ----------------------------------------------------------------------

Push = Callable[[TelegramFake, int, str], dict[str, Any]]


def as_voice(duration: int) -> Push:
    return lambda fake, user, file_id: fake.push_voice(user, user, file_id, duration=duration)


def as_audio(duration: int) -> Push:
    return lambda fake, user, file_id: fake.push_audio(user, user, file_id, duration=duration)


def as_video(duration: int) -> Push:
    return lambda fake, user, file_id: fake.push_video(user, user, file_id, duration=duration)


def as_document(mime_type: str, file_name: str) -> Push:
    return lambda fake, user, file_id: fake.push_document(
        user, user, file_id, mime_type=mime_type, file_name=file_name
    )


# With a Telegram duration the job is accepted (a minute reserved) and fails when the file
# is probed; without one (documents, a duration of 0) the probe refuses it at once.
BROKEN_FILES: dict[str, tuple[Callable[[], bytes], Push, str | frozenset[str]]] = {
    # name: (bytes, how they are sent, what the user is told)
    "corrupted ogg voice": (corrupted_ogg, as_voice(10), UNREADABLE),
    "corrupted ogg document": (corrupted_ogg, as_document("audio/ogg", "note.ogg"), UNREADABLE),
    "truncated mp3 audio": (truncated_mp3, as_audio(10), UNREADABLE),
    "truncated mp3 document": (truncated_mp3, as_document("audio/mpeg", "a.mp3"), UNREADABLE),
    "truncated mp4 video": (truncated_mp4, as_video(10), UNREADABLE),
    "truncated mp4 document": (truncated_mp4, as_document("video/mp4", "talk.mp4"), UNREADABLE),
    "zero-byte voice without a duration": (lambda: b"", as_voice(0), EMPTY),
    "zero-byte voice with a duration": (lambda: b"", as_voice(5), EMPTY),
    "zero-byte document": (lambda: b"", as_document("audio/ogg", "empty.ogg"), EMPTY),
    "text file renamed .ogg": (
        lambda: TEXT_FILE,
        as_document("application/octet-stream", "notes.ogg"),
        UNREADABLE,
    ),
    "text file renamed .ogg with an audio type": (
        lambda: TEXT_FILE,
        as_document("audio/ogg", "notes.ogg"),
        UNREADABLE,
    ),
    "text file as a voice note": (lambda: TEXT_FILE, as_voice(4), UNREADABLE),
    "video with no audio track": (video_without_audio, as_video(10), UNREADABLE),
    "video with no audio track as a document": (
        video_without_audio,
        as_document("video/mp4", "screen.mp4"),
        UNREADABLE,
    ),
}


async def test_broken_files_are_explained_and_cost_nothing(start_bot) -> None:  # type: ignore[no-untyped-def]
    """Every broken file at once, each from its own user: one clear answer each, no
    minute charged or left reserved, no transcript stored, the recognizer never called."""
    recognizer, prepare = scripted("must never be heard")
    bot: RunningBot = start_bot(prepare)
    sent = {}
    for user, case in enumerate(sorted(BROKEN_FILES), start=USER + 100):
        make, push, expected = BROKEN_FILES[case]
        sent[case] = (user, expected, push(bot.fake, user, bot.fake.register_file(make())))

    problems = {}
    for case, (user, expected, update) in sent.items():
        try:
            await answered(bot, expected, user)
            await nothing_charged(bot, user)
            await nothing_stored(bot, unique_id(update), user)
        except AssertionError as error:
            problems[case] = str(error)
    assert problems == {}
    assert recognizer.calls == 0
    await still_answers(bot)


async def test_a_zero_byte_voice_note_with_a_duration_is_called_empty(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted("must never be heard")
    bot: RunningBot = start_bot(prepare)
    bot.fake.push_voice(USER, USER, bot.fake.register_file(b""), duration=5)
    await bot.fake.wait_for_async(lambda: {EMPTY, UNREADABLE} & set(visible(bot)), timeout=30)
    assert visible(bot) == [EMPTY]


async def test_silence_is_no_speech_and_costs_nothing(start_bot) -> None:  # type: ignore[no-untyped-def]
    recognizer, prepare = scripted("")  # what a recognizer hears in silence
    bot: RunningBot = start_bot(prepare)
    update = bot.fake.push_voice(USER, USER, bot.fake.register_file(silence(5.0)), duration=5)

    await answered(bot, NO_SPEECH)

    assert recognizer.calls >= 1
    await nothing_charged(bot)
    await nothing_stored(bot, unique_id(update))
    jobs = await bot.container.jobs().list_by_user(USER, 5)
    assert [job.status for job in jobs] == [JobStatus.NO_SPEECH]
    await still_answers(bot)


@pytest.mark.slow
async def test_silence_through_the_offline_model_is_no_speech(start_bot) -> None:  # type: ignore[no-untyped-def]
    """The real Whisper (VAD on) must not hallucinate a charged "Thank you." into silence."""
    bot: RunningBot = start_bot()
    bot.fake.push_voice(USER, USER, bot.fake.register_file(silence(5.0)), duration=5)

    await answered(bot, NO_SPEECH, within=90)

    await nothing_charged(bot)
    await still_answers(bot)


# --- length limits and lying metadata --------------------------------------------------


TOO_LONG = "This recording is too long"


async def test_audio_over_max_audio_seconds_is_refused_free(start_bot) -> None:  # type: ignore[no-untyped-def]
    """40 s against a 30 s limit, refused whatever Telegram says: 40 (refused at once),
    0 (probed at once) or a lie of 5 s (accepted, then refused once the file is probed)."""
    recognizer, prepare = scripted("must never be heard")
    bot: RunningBot = start_bot(prepare, MAX_AUDIO_SECONDS="30")
    told = {USER + 1: 40, USER + 2: 0, USER + 3: 5}
    updates = {
        user: bot.fake.push_voice(user, user, bot.fake.register_file(speech_of(40)), duration=d)
        for user, d in told.items()
    }

    for user, update in updates.items():
        [refusal] = await bot.fake.wait_for_async(
            lambda user=user: [t for t in visible(bot, user) if t.startswith(TOO_LONG)],
            timeout=30,
            message=f"the refusal for a duration of {told[user]}",
        )
        await bot.fake.wait_for_async(lambda: not bot.fake.pending_updates())
        assert visible(bot, user) == [refusal]
        await nothing_charged(bot, user)
        await nothing_stored(bot, unique_id(update), user)
    assert recognizer.calls == 0
    for user in (USER + 1, USER + 2):
        assert await bot.container.jobs().list_by_user(user, 5) == [], "refused before a job"
    await still_answers(bot)


async def test_the_refusal_states_a_limit_the_user_can_meet(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted("must never be heard")
    bot: RunningBot = start_bot(prepare, MAX_AUDIO_SECONDS="30")
    bot.fake.push_voice(USER, USER, bot.fake.register_file(speech_of(40)), duration=40)
    [refusal] = await bot.fake.wait_for_async(
        lambda: [t for t in visible(bot) if t.startswith(TOO_LONG)], timeout=30
    )
    assert "limit is 0 minutes" not in refusal, refusal


async def test_the_probed_length_is_charged_not_telegrams_duration(start_bot) -> None:  # type: ignore[no-untyped-def]
    """A 150 s note that Telegram says is 0 s (unknown: probed at acceptance, queued as
    long audio) or 1 s (a lie: accepted as 1 minute, repriced once probed) costs 3 minutes."""
    recognizer, prepare = scripted("a long note")
    bot: RunningBot = start_bot(prepare)
    for user, duration in ((USER + 1, 0), (USER + 2, 1)):
        bot.fake.push_voice(user, user, bot.fake.register_file(speech_of(150)), duration=duration)

    for user in (USER + 1, USER + 2):
        await bot.fake.wait_for_async(lambda user=user: "a long note" in visible(bot, user), 60)
        await settled(bot, user)
        account = await bot.container.accounts().get(user)
        assert account is not None
        assert (account.balance, account.reserved, account.spent) == (TRIAL - 3, 0, 3), account
        [job] = await bot.container.jobs().list_by_user(user, 5)
        assert job.status is JobStatus.DELIVERED and 149 <= job.duration_seconds <= 151
    assert recognizer.calls >= 2


# --- malformed updates -----------------------------------------------------------------


def push_as_is(fake: TelegramFake, update: dict[str, Any]) -> None:
    """Queue ``update`` byte for byte. ``push_raw`` reads every message's chat (and fails
    on a message without one), so a chatless message goes in past it."""
    with fake._cond:
        update.setdefault("update_id", fake._next_update_id)
        fake._next_update_id = max(fake._next_update_id, int(update["update_id"]) + 1)
        fake._pending.append(update)
        fake._cond.notify_all()


def drop_pending(fake: TelegramFake, update: dict[str, Any]) -> None:
    with fake._cond:
        fake._pending = [pending for pending in fake._pending if pending is not update]


COMMAND = {"entities": [{"type": "bot_command", "offset": 0, "length": 6}]}
FETCH_FAILED = "The file could not be fetched. Please send it again."
VOICE_OF_NOTHING = {"file_id": "no-such-file", "file_unique_id": "gone", "duration": 3}


def sender(user: int) -> dict[str, Any]:
    return {"id": user, "is_bot": False, "first_name": "Mallory"}


def chat(user: int) -> dict[str, Any]:
    return {"id": user, "type": "private", "first_name": "Mallory"}


def message(
    user: int, *, with_sender: bool = True, with_chat: bool = True, **content: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"message_id": 900, "date": 0, **content}
    if with_sender:
        body["from"] = sender(user)
    if with_chat:
        body["chat"] = chat(user)
    return {"message": body}


# Updates PTB parses into an Update: our handlers get them and must cope. Each with what
# its chat then shows (nothing where nobody can be answered), built for one user id.
PARSEABLE_UPDATES: dict[str, tuple[Callable[[int], dict[str, Any]], list[str]]] = {
    "unknown update type": (lambda user: {"something_new": {}}, []),
    "unknown update type with a payload": (
        lambda user: {"something_new": {"id": 1, "chat": chat(user), "from": sender(user)}},
        [],
    ),
    "message without a sender": (
        lambda user: message(user, with_sender=False, text="/start", **COMMAND),
        [START],
    ),
    "voice without a sender": (
        lambda user: message(user, with_sender=False, voice=VOICE_OF_NOTHING),
        [],
    ),
    "message with no chat": (
        lambda user: message(user, with_chat=False, text="/start", **COMMAND),
        [],
    ),
    "voice with no chat": (lambda user: message(user, with_chat=False, voice=VOICE_OF_NOTHING), []),
    "voice of an unknown file": (
        lambda user: message(user, voice=VOICE_OF_NOTHING),
        [FETCH_FAILED],
    ),
    "voice with a nonsense duration": (
        lambda user: message(user, voice={**VOICE_OF_NOTHING, "duration": "long"}),
        [FETCH_FAILED],
    ),
    "empty edited channel post": (lambda user: {"edited_channel_post": None}, []),
}
CHATLESS = {"message with no chat", "voice with no chat", "unknown update type with a payload"}


async def test_malformed_updates_break_nothing(start_bot) -> None:  # type: ignore[no-untyped-def]
    """Each case from its own user: the expected answer (or none), nothing charged or
    recognized, and the bot goes on answering."""
    recognizer, prepare = scripted("must never be heard")
    bot: RunningBot = start_bot(prepare)
    cases = dict(enumerate(sorted(PARSEABLE_UPDATES), start=USER + 200))
    for user, case in cases.items():
        update = PARSEABLE_UPDATES[case][0](user)
        if case in CHATLESS:
            push_as_is(bot.fake, update)
        else:
            bot.fake.push_raw(update)

    await bot.fake.wait_for_async(lambda: not bot.fake.pending_updates(), timeout=15)
    await still_answers(bot)
    problems = {}
    for user, case in cases.items():
        expected = PARSEABLE_UPDATES[case][1]

        def as_expected(user: int = user, expected: list[str] = expected) -> bool:
            shown = visible(bot, user)
            return len(shown) == len(expected) and all(map(str.startswith, shown, expected))

        try:
            await bot.fake.wait_for_async(as_expected, message=f"{expected} for {case}")
            await nothing_charged(bot, user)
            for job in await bot.container.jobs().list_by_user(user, 5):
                assert job.status is JobStatus.FAILED and not job.transcript, job
        except AssertionError as error:
            problems[case] = f"{error}; shown: {visible(bot, user)}"
    assert problems == {}
    assert recognizer.calls == 0


# Updates PTB cannot parse (its de_json raises): polling must skip them, not stall on them.
UNPARSEABLE_UPDATES: dict[str, dict[str, Any]] = {
    "message is a string": {"message": "hello"},
    "wrong field types": {
        "message": {
            "message_id": "abc",
            "date": "yesterday",
            "chat": {"id": "x", "type": 5},
            "voice": {"file_id": 5, "duration": "long"},
        }
    },
}


@pytest.mark.parametrize("case", sorted(UNPARSEABLE_UPDATES))
async def test_an_unparseable_update_does_not_stall_polling(start_bot, case: str) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot()
    # The clock below starts once the bot polls: loading the model first takes seconds.
    await bot.fake.wait_for_async(lambda: bot.fake.calls_to("getUpdates"), timeout=60)
    poison = copy.deepcopy(UNPARSEABLE_UPDATES[case])
    push_as_is(bot.fake, poison)
    try:
        await still_answers(bot, within=3)  # a healthy bot answers in well under a second
    finally:
        drop_pending(bot.fake, poison)  # so that the bot can stop (see the test below)


async def test_stopping_with_an_unparseable_update_pending_exits_cleanly(
    bot_settings: dict[str, str], telegram_fake: TelegramFake
) -> None:
    """SIGTERM while a poison update is pending: serve must still stop and return 0."""
    container = build_container(load_settings(bot_settings), Channel.TELEGRAM)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(container, stop))
    await telegram_fake.wait_for_async(lambda: telegram_fake.calls_to("getUpdates"), timeout=60)
    poison = {"message": "hello"}
    push_as_is(telegram_fake, poison)
    await telegram_fake.wait_for_async(
        lambda: all(pending is not poison for pending in telegram_fake.pending_updates())
    )  # fetched and acknowledged: the bot moved past it
    stop.set()
    try:
        outcome: int | BaseException = await finish(serving, 30, "serve after stop")
    except Exception as error:
        outcome = error
    finally:
        drop_pending(telegram_fake, poison)
        await finish(asyncio.ensure_future(container.closing().close_all()), 30, "close_all")
    assert outcome == 0, repr(outcome)


# --- callback data and markup ----------------------------------------------------------


UNPARSEABLE_CALLBACK_DATA = [
    "set:nonsense",
    "set:",
    "lang:",
    "lang:xx",
    "lang:auto:extra",
    "set:code\x00",
    "<b>set:code</b>",
    "buy",
    "💣" * 16,
]


async def press(bot: RunningBot, user: int, data: str) -> None:
    """/settings, then a press on its keyboard carrying ``data``, as query ``q<user>``."""
    bot.fake.push_text(user, user, "/settings")
    [keyboard] = await bot.fake.wait_for_async(
        lambda: [m for m in bot.fake.sent_messages(user) if m.reply_markup]
    )
    bot.fake.push_callback_query(
        user, user, data, message_id=keyboard.message_id, query_id=f"q{user}"
    )


async def answered_silently(bot: RunningBot, user: int) -> None:
    """The press is answered with no text or alert, changes no setting and no message."""
    [answer] = await bot.fake.wait_for_async(
        lambda: [a for a in bot.fake.callback_answers() if a.callback_query_id == f"q{user}"]
    )
    await bot.fake.wait_for_async(lambda: not bot.fake.pending_updates())
    assert (answer.text, answer.show_alert) == (None, False), answer
    assert await bot.container.preferences().get(user) in (None, UserStyle())
    assert not bot.fake.edits(user), "the keyboard stays as it was"
    assert len(visible(bot, user)) == 1, visible(bot, user)


async def test_callback_data_that_does_not_parse_is_answered_and_changes_nothing(  # type: ignore[no-untyped-def]
    start_bot,
) -> None:
    bot: RunningBot = start_bot()
    users = dict(enumerate(UNPARSEABLE_CALLBACK_DATA, start=USER + 300))
    for user, data in users.items():
        await press(bot, user, data)

    problems = {}
    for user, data in users.items():
        try:
            await answered_silently(bot, user)
        except AssertionError as error:
            problems[data] = str(error)
    assert problems == {}
    await still_answers(bot)


async def test_empty_callback_data_is_answered_silently(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot()
    await press(bot, USER, "")
    await answered_silently(bot, USER)


async def test_a_callback_query_without_data_or_message_is_answered(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot()
    bot.fake.push_raw({"callback_query": {"id": "77", "from": sender(USER), "chat_instance": "1"}})
    await bot.fake.wait_for_async(lambda: not bot.fake.pending_updates())
    await still_answers(bot)
    assert len(bot.fake.callback_answers()) == 1, "every query is answered"


async def test_markup_in_a_transcript_is_shown_literally(start_bot) -> None:  # type: ignore[no-untyped-def]
    transcript = "<b>x</b> & *y* _z_ `code` [link](http://example.com) &amp; </i>"
    _, prepare = scripted(transcript)
    bot: RunningBot = start_bot(prepare)
    bot.fake.push_voice(USER, USER, bot.fake.register_file(clips()["ogg"]), duration=10)

    [answer] = await bot.fake.wait_for_async(
        lambda: [m for m in bot.fake.sent_messages(USER) if "*y*" in m.plain_text], timeout=30
    )
    assert answer.plain_text == transcript, "escaped for HTML: the user reads it as said"
    assert answer.parse_mode == "HTML"
    assert "&lt;b&gt;x&lt;/b&gt; &amp; *y*" in answer.text
    await settled(bot)
    account = await bot.container.accounts().get(USER)
    assert account is not None and (account.balance, account.spent) == (TRIAL - 1, 1)


async def test_markup_in_names_and_captions_breaks_nothing(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted("heard")
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    name = '<b>Bob</b> & <i>*Eve*</i> <a href="x">'
    fake.push_text(USER, USER, "/start", first_name=name, username="bob_<b>")
    await fake.wait_for_async(lambda: [t for t in visible(bot) if t.startswith(START)], timeout=15)
    fake.push_voice(
        USER,
        USER,
        fake.register_file(clips()["ogg"]),
        duration=10,
        first_name=name,
        caption="<script>alert(1)</script> & *bold*",
    )
    await fake.wait_for_async(lambda: "heard" in visible(bot), timeout=30)
    fake.push_document(
        USER,
        USER,
        fake.register_file(TEXT_FILE),
        mime_type="text/plain",
        file_name="<b>notes</b>.txt",
        first_name=name,
    )
    await fake.wait_for_async(lambda: UNSUPPORTED in visible(bot), timeout=15)
    await fake.wait_for_async(lambda: not fake.pending_updates())
    assert [c for c in fake.calls if c.error_code is not None] == []
