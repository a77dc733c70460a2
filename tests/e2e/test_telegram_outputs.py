"""Telegram outputs end to end (#16): PTB polling the Bot API fake, the real container.

``/output`` offers the output modes as buttons; a recording then comes back in the mode
chosen (subtitles as a document named after the original file). A long recording's text
carries, under the actions' row (#17), buttons that send its other outputs from the stored
transcript: no recognition, no charge. The recognizer is scripted with
timed segments (as Whisper gives them), so the subtitles' times are known; everything else
is the real pipeline.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Callable
from typing import Any

import srt
from dependency_injector import providers

from application.ports import Recognition
from domain.jobs import OutputMode
from domain.ledger import MinutesAccount
from domain.transcript import Segment
from tests.application.in_memory import FakeRecognizer
from tests.e2e.conftest import RunningBot
from tests.media_clips import SAMPLES, long_speech, long_voice_note

USER = 5151
SECONDS_PER_SENTENCE = 6.0


class TimedScriptedRecognizer(FakeRecognizer):
    """Answers each request with ``sentences`` sentences that read like speech, one timed
    segment each, ``SECONDS_PER_SENTENCE`` apart from the start of the audio given."""

    def __init__(self, sentences: int) -> None:
        super().__init__()
        self.sentences = sentences
        self.timed = True

    async def recognize(self, audio, profile, language, language_hint=None):  # type: ignore[no-untyped-def]
        self.calls += 1
        said = re.findall(r"[^.]+\.", long_speech(self.sentences + self.calls))
        segments = tuple(
            Segment(i * SECONDS_PER_SENTENCE, i * SECONDS_PER_SENTENCE + 5.0, s.strip())
            for i, s in enumerate(said)
        )
        return Recognition(" ".join(s.text for s in segments), "en", segments)


def timed_script(sentences: int) -> tuple[TimedScriptedRecognizer, Callable[[Any], None]]:
    recognizer = TimedScriptedRecognizer(sentences)

    def prepare(container) -> None:  # type: ignore[no-untyped-def]
        container.recognizer.override(providers.Object(recognizer))

    return recognizer, prepare


def buttons(markup: dict[str, Any] | None) -> dict[str, str]:
    """A message's inline buttons: label → callback data."""
    rows = (markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def cues_of(data: bytes | None) -> list[srt.Subtitle]:
    assert data is not None
    return list(srt.parse(data.decode("utf-8")))


async def settled_account(bot: RunningBot, seconds: float = 60.0) -> MinutesAccount:
    """The user's account once nothing is reserved any more (the job's minutes settled)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        account = await bot.container.accounts().get(USER)
        if account is not None and account.reserved == 0:
            return account
        assert asyncio.get_running_loop().time() < deadline, f"never settled: {account}"
        await asyncio.sleep(0.05)


def assert_ordered(cues: list[srt.Subtitle]) -> None:
    assert cues, "some cues"
    for before, after in itertools.pairwise(cues):
        assert before.start < before.end <= after.start, (before, after)


async def test_output_srt_chosen_then_a_recording_comes_back_as_a_named_srt_file(  # type: ignore[no-untyped-def]
    start_bot,
) -> None:
    _, prepare = timed_script(sentences=2)
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    fake.push_text(USER, USER, "/output", language_code="ru")
    [menu] = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if m.reply_markup], timeout=30
    )
    assert menu.plain_text == "Как присылать расшифровки?"
    offered = buttons(menu.reply_markup)
    assert list(offered) == [
        "✓ текст",
        "текст с таймкодами",
        "файл .txt",
        "файл .srt (субтитры)",
        "файл .vtt (субтитры)",
        "« Назад",
    ]
    fake.push_callback_query(
        USER, USER, offered["файл .srt (субтитры)"], message_id=menu.message_id, language_code="ru"
    )
    await fake.wait_for_async(
        lambda: "✓ файл .srt (субтитры)" in buttons(menu.reply_markup), timeout=30
    )
    stored = await bot.container.preferences().get(USER)
    assert stored is not None and stored.output is OutputMode.SRT

    file_id = fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    fake.push_audio(
        USER,
        USER,
        file_id,
        duration=10,
        mime_type="audio/ogg",
        file_name="lecture 3.ogg",
        language_code="ru",
    )
    [document] = await fake.wait_for_async(lambda: fake.documents(USER), timeout=60)

    assert document.filename == "lecture 3.srt"
    cues = cues_of(document.data)
    assert_ordered(cues)
    assert "long recording & it" in cues[0].content.replace("\n", " ")
    previews = [m for m in fake.sent_messages(USER) if "📄" in m.plain_text and not m.deleted]
    assert previews and "long recording & it" in previews[0].plain_text, "a short preview"


async def test_text_with_times_comes_as_messages_opening_with_the_time(  # type: ignore[no-untyped-def]
    start_bot,
) -> None:
    _, prepare = timed_script(sentences=1)
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    fake.push_text(USER, USER, "/output")
    [menu] = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if m.reply_markup], timeout=30
    )
    fake.push_callback_query(USER, USER, buttons(menu.reply_markup)["text with times"])
    await fake.wait_for_async(lambda: "✓ text with times" in buttons(menu.reply_markup))
    file_id = fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    fake.push_voice(USER, USER, file_id, duration=10)

    [answer] = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if m.plain_text.startswith("[00:00] ")],
        timeout=60,
    )
    assert "long recording & it" in answer.plain_text
    assert answer.parse_mode == "HTML" and "&amp;" in answer.text, "escaped for HTML"
    assert not fake.documents(USER)


async def test_the_button_under_a_long_result_sends_subtitles_uncharged_and_unrecognized(  # type: ignore[no-untyped-def]
    start_bot,
) -> None:
    recognizer, prepare = timed_script(sentences=20)
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    file_id = fake.register_file(long_voice_note(610.0))  # past 10 minutes
    fake.push_voice(USER, USER, file_id, duration=610)

    def offering() -> list[Any]:
        return [
            m
            for m in fake.sent_messages(USER)
            if not m.deleted and "🎬 Subtitles (.srt)" in buttons(m.reply_markup)
        ]

    [result] = await fake.wait_for_async(offering, timeout=180)
    assert "long recording & it" in result.plain_text
    calls = recognizer.calls
    account = await settled_account(bot)
    # Under the actions' row (#17), at once: not behind More.
    assert list(buttons(result.reply_markup))[-2:] == ["⏱ With timestamps", "🎬 Subtitles (.srt)"]
    assert "⋯ More" not in buttons(result.reply_markup)
    answered = len(fake.callback_answers())
    assert account.spent == 11, "charged once: 11 minutes"

    # Someone else (as in a group) pressing it gets an explanation and nothing else.
    other = USER + 1
    fake.push_callback_query(
        other,
        USER,
        buttons(result.reply_markup)["🎬 Subtitles (.srt)"],
        message_id=result.message_id,
    )
    await fake.wait_for_async(lambda: len(fake.callback_answers()) == answered + 1, timeout=30)
    refusal = fake.callback_answers()[-1]
    assert refusal.show_alert and "Only the person who sent" in (refusal.text or "")

    fake.push_callback_query(
        USER,
        USER,
        buttons(result.reply_markup)["🎬 Subtitles (.srt)"],
        message_id=result.message_id,
    )
    [document] = await fake.wait_for_async(lambda: fake.documents(USER), timeout=60)

    assert document.filename == "transcript.srt", "a voice note has no name of its own"
    cues = cues_of(document.data)
    assert_ordered(cues)
    assert cues[-1].end.total_seconds() <= 610.0 + 1.0, "within the recording"
    await fake.wait_for_async(lambda: len(fake.callback_answers()) == answered + 2, timeout=30)
    assert fake.callback_answers()[-1].text == "Sent."
    assert recognizer.calls == calls, "not recognized again"
    again = await bot.container.accounts().get(USER)
    assert again == account, "not charged again: the account untouched"
