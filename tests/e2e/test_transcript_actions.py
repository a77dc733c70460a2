"""Actions on a transcript end to end (#17): PTB polling the Bot API fake, the real
container, qwen on the DashScope fake (or no model at all, offline).

Under a delivered result: Summary, Action items, Translate and More. Each works from the
stored transcript (the recognizer is not called again), is charged once (1 minute per
started half hour) and answered from the store, free, when pressed again; someone else's
press is refused; offline only Summary is offered, made by sentence scoring and labelled.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from domain.ledger import MinutesAccount
from tests.e2e.conftest import RunningBot
from tests.e2e.test_telegram_outputs import buttons, settled_account, timed_script
from tests.fakes.dashscope_server import LLM_PATH, FakeDashScope, RecordedRequest
from tests.fakes.telegram import TelegramFake
from tests.media_clips import SAMPLES

USER = 5151
SUMMARY, ITEMS, TRANSLATE, MORE = "📝 Summary", "✅ Action items", "🌐 Translate", "⋯ More"


def model_reply(request: RecordedRequest) -> str:
    """What the fake qwen answers each action with (the formatter is not asked: the
    transcripts here are shorter than the formatting threshold)."""
    instructions = str(request.message("system"))
    if instructions.startswith("You translate"):
        return "Перевод расшифровки."
    if instructions.startswith("You summarise"):
        return "The weather & the plans, in short."
    if "action items" in instructions:
        return "- Call <Anna> about the weather"
    return str(request.message("user"))


@pytest.fixture
def dashscope() -> Iterator[FakeDashScope]:
    with FakeDashScope(api_key="sk-test-actions-0123") as fake:
        fake.reply = model_reply
        yield fake


def with_qwen(dashscope: FakeDashScope) -> dict[str, str]:
    return {
        "FORMATTER_BACKEND": "qwen",
        "DASHSCOPE_API_KEY": dashscope.api_key,
        "DASHSCOPE_BASE_URL": dashscope.base_url,
    }


def llm_calls(dashscope: FakeDashScope) -> int:
    return sum(1 for r in dashscope.requests if r.path == LLM_PATH)


async def delivered_result(bot: RunningBot, language_code: str = "en") -> Any:
    """Send a 10 s note and wait for its text, with the row of actions under it."""
    fake = bot.fake
    file_id = fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    fake.push_voice(USER, USER, file_id, duration=10, language_code=language_code)
    [result] = await fake.wait_for_async(
        lambda: [
            m
            for m in fake.sent_messages(USER)
            if not m.deleted and any(d.startswith("act:") for d in buttons(m.reply_markup).values())
        ],
        timeout=60,
    )
    return result


async def press(
    fake: TelegramFake, result: Any, label: str, user: int = USER, language_code: str = "en"
) -> None:
    answers = len(fake.callback_answers())
    data = buttons(result.reply_markup)[label]
    assert data.startswith("act:") and str(USER) not in data, "only an opaque handle"
    fake.push_callback_query(
        user, USER, data, message_id=result.message_id, language_code=language_code
    )
    await fake.wait_for_async(lambda: len(fake.callback_answers()) > answers, timeout=30)


async def reply_to(fake: TelegramFake, result: Any, opening: str, count: int = 1) -> list[Any]:
    """The bot's messages answering ``result`` that open with ``opening`` (at least
    ``count`` of them)."""

    def found() -> list[Any] | None:
        answers = [m for m in fake.sent_messages(USER) if m.plain_text.startswith(opening)]
        return answers if len(answers) >= count else None

    return await fake.wait_for_async(found, timeout=60)


async def test_each_button_works_from_the_stored_transcript_charged_once(  # type: ignore[no-untyped-def]
    start_bot, dashscope: FakeDashScope
) -> None:
    recognizer, prepare = timed_script(sentences=2)
    bot: RunningBot = start_bot(prepare, **with_qwen(dashscope))
    fake = bot.fake
    result = await delivered_result(bot)
    assert list(buttons(result.reply_markup)) == [SUMMARY, ITEMS, TRANSLATE, MORE]
    recognized = recognizer.calls
    start: MinutesAccount = await settled_account(bot)

    await press(fake, result, SUMMARY)
    [summary] = await reply_to(fake, result, SUMMARY)
    assert "The weather & the plans, in short." in summary.plain_text
    assert summary.parse_mode == "HTML" and "&amp;" in summary.text, "escaped for HTML"
    account = await settled_account(bot)
    assert account.spent == start.spent + 1, "1 minute for a note under half an hour"
    asked = llm_calls(dashscope)
    assert asked >= 1

    # The same button again: the stored result, free, without asking the model.
    await press(fake, result, SUMMARY)
    summaries = await reply_to(fake, result, SUMMARY, count=2)
    assert summaries[1].plain_text == summary.plain_text
    assert llm_calls(dashscope) == asked, "answered from the store"
    assert await settled_account(bot) == account, "free the second time"

    await press(fake, result, ITEMS)
    [items] = await reply_to(fake, result, ITEMS)
    assert "- Call <Anna> about the weather" in items.plain_text
    assert (await settled_account(bot)).spent == account.spent + 1

    # The text is in the user's own language (en): a choice of languages opens.
    await press(fake, result, TRANSLATE)
    await fake.wait_for_async(lambda: "Русский" in buttons(result.reply_markup), timeout=30)
    await press(fake, result, "Русский")
    [translation] = await reply_to(fake, result, "🌐 Translation (Русский)")
    assert "Перевод расшифровки." in translation.plain_text
    assert (await settled_account(bot)).spent == account.spent + 2

    # More: the timed outputs of the stored transcript, uncharged.
    await press(fake, result, MORE)
    await fake.wait_for_async(
        lambda: "⏱ With timestamps" in buttons(result.reply_markup), timeout=30
    )
    await press(fake, result, "⏱ With timestamps")
    await reply_to(fake, result, "[00:00] ")
    assert (await settled_account(bot)).spent == account.spent + 2
    assert recognizer.calls == recognized, "nothing recognized again"


async def test_translate_goes_straight_to_the_users_language(  # type: ignore[no-untyped-def]
    start_bot, dashscope: FakeDashScope
) -> None:
    _, prepare = timed_script(sentences=2)
    bot: RunningBot = start_bot(prepare, **with_qwen(dashscope))
    fake = bot.fake
    result = await delivered_result(bot, language_code="ru")
    assert list(buttons(result.reply_markup)) == ["📝 Кратко", "✅ Задачи", "🌐 Перевести", "⋯ Ещё"]

    await press(fake, result, "🌐 Перевести", language_code="ru")

    [translation] = await reply_to(fake, result, "🌐 Перевод (Русский)")
    assert "Перевод расшифровки." in translation.plain_text
    translated = [r for r in dashscope.requests if "You translate" in str(r.message("system"))]
    assert translated and "Russian" in str(translated[0].message("system"))


async def test_another_users_press_is_refused(  # type: ignore[no-untyped-def]
    start_bot, dashscope: FakeDashScope
) -> None:
    _, prepare = timed_script(sentences=2)
    bot: RunningBot = start_bot(prepare, **with_qwen(dashscope))
    fake = bot.fake
    result = await delivered_result(bot)
    asked = llm_calls(dashscope)
    messages = len(fake.sent_messages(USER))

    await press(fake, result, SUMMARY, user=USER + 1)

    [refusal] = fake.callback_answers()
    assert refusal.show_alert and "Only the person who sent" in (refusal.text or "")
    assert llm_calls(dashscope) == asked, "no model asked"
    assert len(fake.sent_messages(USER)) == messages, "nothing sent"
    assert await bot.container.accounts().get(USER + 1) is None, "nobody charged"


async def test_offline_only_the_summary_is_offered_extracted_and_labelled(  # type: ignore[no-untyped-def]
    start_bot,
) -> None:
    _, prepare = timed_script(sentences=2)
    bot: RunningBot = start_bot(prepare)  # the offline profile: no language model
    fake = bot.fake
    result = await delivered_result(bot)
    assert list(buttons(result.reply_markup)) == [SUMMARY, MORE]
    start = await settled_account(bot)

    await press(fake, result, SUMMARY)

    [summary] = await reply_to(fake, result, SUMMARY)
    assert "made without an AI model" in summary.plain_text
    assert "long recording & it" in summary.plain_text, "sentences of the transcript itself"
    assert summary.plain_text.startswith(SUMMARY)
    assert (await settled_account(bot)).spent == start.spent + 1
