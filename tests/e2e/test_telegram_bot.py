"""The Telegram bot end to end: PTB polling the Bot API fake, the embedded default behind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from dependency_injector import providers

from tests.application.in_memory import FakeRecognizer
from tests.e2e.conftest import RunningBot
from tests.media_clips import SAMPLES, long_speech, long_voice_note
from tests.word_error_rate import word_error_rate

USER = 4242


class ScriptedRecognizer(FakeRecognizer):
    """Answers with a fixed transcript: for delivery tests that need long texts."""

    def __init__(self, transcript: str) -> None:
        super().__init__()
        self.transcript = transcript

    async def recognize(self, audio, profile, language, language_hint=None):  # type: ignore[no-untyped-def]
        self.calls += 1
        from application.ports import Recognition

        return Recognition(self.transcript, "en")


def scripted(transcript: str) -> tuple[ScriptedRecognizer, Callable[..., None]]:
    recognizer = ScriptedRecognizer(transcript)

    def prepare(container) -> None:  # type: ignore[no-untyped-def]
        container.recognizer.override(providers.Object(recognizer))

    return recognizer, prepare


def visible(bot: RunningBot, chat_id: int = USER) -> list[str]:
    """What the user sees (HTML rendered) of the messages still in the chat."""
    return [m.plain_text for m in bot.fake.sent_messages(chat_id) if not m.deleted]


@pytest.mark.slow
async def test_a_voice_note_is_downloaded_recognized_and_answered(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot()
    fake = bot.fake
    file_id = fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    update = fake.push_voice(USER, USER, file_id, duration=10)

    answers = await fake.wait_for_async(
        lambda: [
            m
            for m in fake.sent_messages(USER)
            if m.reply_to_message_id and not m.deleted and "weather" in m.text.lower()
        ],
        timeout=60,
    )

    expected = (SAMPLES / "en-weather.txt").read_text()
    assert word_error_rate(expected, answers[0].text) <= 0.25
    assert answers[0].reply_to_message_id == update["message"]["message_id"]
    assert answers[0].parse_mode == "HTML"
    assert fake.my_commands(), "the command list was registered"
    in_groups = [c["command"] for c in fake.my_commands({"type": "all_group_chats"})]
    assert in_groups[:2] == ["transcribe", "chatsettings"], "groups get their own menu"


async def test_long_text_is_split_into_messages_within_the_limit(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted(long_speech(110))  # ~5,600 characters: two messages, not a file
    bot: RunningBot = start_bot(prepare)
    file_id = bot.fake.register_file(long_voice_note())  # audio long enough for the text
    bot.fake.push_voice(USER, USER, file_id, duration=10)

    await bot.fake.wait_for_async(
        lambda: len([t for t in visible(bot) if "long recording" in t]) >= 2, timeout=30
    )
    parts = [t for t in visible(bot) if "long recording" in t]
    assert len(parts) == 2 and all(len(p) <= 4096 for p in parts)
    assert "".join(parts).count("long recording & it") == 110, "escaped for HTML, none lost"


async def test_file_output_sends_a_txt_document_with_a_preview(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted("Short text for a file. " * 5)
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    fake.push_text(USER, USER, "/output")
    [menu] = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if m.reply_markup]
    )
    fake.push_callback_query(USER, USER, "set:output:file", message_id=menu.message_id)
    await fake.wait_for_async(lambda: "✓ .txt file" in str(menu.reply_markup))
    file_id = fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    fake.push_voice(USER, USER, file_id, duration=10)

    [document] = await fake.wait_for_async(lambda: fake.documents(USER), timeout=30)

    assert document.filename and document.filename.endswith(".txt")
    assert document.data is not None and b"Short text for a file." in document.data
    assert any("Short text" in t for t in visible(bot)), "a preview message too"


async def test_settings_keyboard_toggles_persist_and_apply(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted("ёлка <b>")
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    fake.push_text(USER, USER, "/settings")
    keyboard = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if m.reply_markup]
    )
    fake.push_callback_query(USER, USER, "set:code", message_id=keyboard[0].message_id)
    fake.push_callback_query(USER, USER, "set:yo", message_id=keyboard[0].message_id)
    await fake.wait_for_async(lambda: len(fake.callback_answers()) == 2)
    fake.push_callback_query(USER, USER, "nonsense-data", message_id=keyboard[0].message_id)
    await fake.wait_for_async(lambda: len(fake.callback_answers()) == 3)
    stored = await bot.container.preferences().get(USER)
    assert stored is not None and stored.use_code_tags and not stored.use_yo

    file_id = fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    fake.push_voice(USER, USER, file_id, duration=10)
    [answer] = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if "лка" in m.plain_text and not m.deleted],
        timeout=30,
    )
    assert answer.plain_text == "елка <b>", "ё replaced, the tag shown as text (escaped)"
    assert answer.parse_mode == "HTML"
    sent = [c for c in fake.calls_to("sendMessage") if "лка" in str(c.params.get("text"))]
    assert sent[0].params["text"] == "<code>елка &lt;b&gt;</code>"


async def test_the_same_update_twice_gets_one_answer(start_bot) -> None:  # type: ignore[no-untyped-def]
    recognizer, prepare = scripted("only once")
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    file_id = fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    update = fake.push_voice(USER, USER, file_id, duration=10)
    import copy

    replay = copy.deepcopy(update)
    replay["update_id"] = update["update_id"] + 1000  # Telegram resends the same message
    fake.push_raw(replay)
    await fake.wait_for_async(lambda: [t for t in visible(bot) if t == "only once"], timeout=30)
    await fake.wait_for_async(lambda: not fake.pending_updates())
    assert [t for t in visible(bot) if t == "only once"] == ["only once"]
    assert recognizer.calls == 1


async def test_telegram_429_is_waited_out_and_the_answer_arrives_once(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted("after the flood")
    bot: RunningBot = start_bot(prepare, STATUS_DELAY_SECONDS="60")
    fake = bot.fake
    file_id = fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    # A quick note has no status message (STATUS_DELAY_SECONDS): its first message is the
    # answer, which meets the flood.
    fake.fail_next("sendMessage", 429, retry_after=1)
    fake.push_voice(USER, USER, file_id, duration=10)

    await fake.wait_for_async(
        lambda: [t for t in visible(bot) if t == "after the flood"], timeout=30
    )
    attempts = [
        c for c in fake.calls_to("sendMessage") if c.params.get("text") == "after the flood"
    ]
    assert len(attempts) == 2 and attempts[1].time - attempts[0].time >= 0.9
    assert [t for t in visible(bot) if t == "after the flood"] == ["after the flood"]


def calls(bot: RunningBot, method: str) -> int:
    return len(bot.fake.calls_to(method))


async def test_a_quick_note_is_answered_with_its_text_alone(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted("quick and alone")
    bot: RunningBot = start_bot(prepare, STATUS_DELAY_SECONDS="60")  # ready well within it
    file_id = bot.fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    bot.fake.push_voice(USER, USER, file_id, duration=10)

    await bot.fake.wait_for_async(lambda: "quick and alone" in visible(bot), timeout=30)

    assert len(bot.fake.sent_messages(USER)) == 1, "the text is the first and only message"
    assert (calls(bot, "getFile"), calls(bot, "sendMessage")) == (1, 1)
    assert calls(bot, "editMessageText") == calls(bot, "deleteMessage") == 0
    assert calls(bot, "sendChatAction") == 0


class HeldRecognizer(ScriptedRecognizer):
    """Answers only once ``release`` is set: a note whose answer is late."""

    def __init__(self, transcript: str) -> None:
        super().__init__(transcript)
        self.release = asyncio.Event()

    async def recognize(self, audio, profile, language, language_hint=None):  # type: ignore[no-untyped-def]
        await self.release.wait()
        return await super().recognize(audio, profile, language, language_hint)


async def test_a_late_answer_shows_the_status_meanwhile_then_only_the_text(start_bot) -> None:  # type: ignore[no-untyped-def]
    recognizer = HeldRecognizer("worth the wait")

    def prepare(container) -> None:  # type: ignore[no-untyped-def]
        container.recognizer.override(providers.Object(recognizer))

    bot: RunningBot = start_bot(prepare, STATUS_DELAY_SECONDS="0.2")
    file_id = bot.fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    bot.fake.push_voice(USER, USER, file_id, duration=10)

    [status] = await bot.fake.wait_for_async(lambda: bot.fake.sent_messages(USER), timeout=30)
    recognizer.release.set()
    await bot.fake.wait_for_async(lambda: "worth the wait" in visible(bot), timeout=30)
    await bot.fake.wait_for_async(lambda: status.deleted, timeout=30)

    assert "worth the wait" not in status.text, "the status came first, on its own"
    assert visible(bot) == ["worth the wait"]


async def test_a_user_who_blocked_the_bot_breaks_nothing(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted("nobody reads this")
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    fake.fail_next("sendMessage", 403, times=10, chat_id=USER)
    file_id = fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    fake.push_voice(USER, USER, file_id, duration=10)
    fake.push_text(USER + 1, USER + 1, "/start")
    await fake.wait_for_async(lambda: visible(bot, USER + 1), timeout=30)
    await fake.wait_for_async(lambda: not fake.pending_updates())
    # The note is accepted whatever the status reply met: wait for its job to settle
    # (the answer cannot be delivered), then nothing may stay reserved.
    deadline = time.monotonic() + 60
    while True:
        jobs = await bot.container.jobs().list_by_user(USER, 10)
        if jobs and all(job.status.is_finished for job in jobs):
            break
        assert time.monotonic() < deadline, f"the note's job never settled: {jobs}"
        await asyncio.sleep(0.05)
    account = await bot.container.accounts().get(USER)
    assert account is None or account.reserved == 0, "nothing left reserved"


async def test_unsupported_documents_get_a_one_line_explanation(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot()
    fake = bot.fake
    file_id = fake.register_file(b"%PDF-1.4 not audio")
    fake.push_document(USER, USER, file_id, mime_type="application/pdf", file_name="cv.pdf")
    [reply] = await fake.wait_for_async(lambda: visible(bot))
    assert "voice messages, audio and video" in reply
