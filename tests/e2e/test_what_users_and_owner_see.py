"""What the user and the owner see (#13), end to end: the bot polling the Bot API fake.

The low-balance heads-up stays on screen, a text or photo in a private chat is answered
(a group's is not), newcomers are told the trial and the prices, "not enough minutes"
carries Buy buttons, the language menu marks the choice and leads back, ``/balance``
speaks the user's language, and the owner's odd arguments get a usage line.
"""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import RunningBot
from tests.e2e.test_hostile_input import settled
from tests.e2e.test_telegram_bot import USER, scripted, visible
from tests.fakes.telegram._updates import chat_json, message_json, user_json
from tests.media_clips import SAMPLES

OWNER = 9000
GROUP = -100_777
WHAT_I_DO = "I turn voice messages, audio and video into text: send me one. /help"


def push_message(bot: RunningBot, user: int, chat: int, **content: Any) -> None:
    sender = user_json(user, "Test User", "en", None)
    message = message_json(
        bot.fake.next_message_id(chat, None), sender, chat_json(chat, sender), **content
    )
    bot.fake.push_raw({"message": message})


def buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [b for row in (markup or {}).get("inline_keyboard", []) for b in row]


async def test_the_low_balance_heads_up_is_a_message_of_its_own(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted("the words of the note")
    bot: RunningBot = start_bot(prepare, TRIAL_MINUTES="5", LOW_BALANCE_MINUTES="5")
    file_id = bot.fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    bot.fake.push_voice(USER, USER, file_id, duration=10)

    await bot.fake.wait_for_async(
        lambda: "the words of the note" in visible(bot), timeout=60, message="the transcript"
    )
    await bot.fake.wait_for_async(lambda: not bot.fake.pending_updates())

    heads_up = "Heads-up: 4 minutes left. /buy_minutes to top up."
    assert visible(bot).count(heads_up) == 1, visible(bot)
    edited_in = [e for e in bot.fake.edits(USER) if "Heads-up" in str(e)]
    assert edited_in == [], "never edited into the status message"


async def test_text_photo_and_sticker_in_private_get_one_line_groups_get_nothing(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot()
    bot.fake.push_text(USER, USER, "hello?")
    photo = [{"file_id": "p1", "file_unique_id": "p1u", "width": 90, "height": 90}]
    push_message(bot, USER, USER, photo=photo)
    sticker = {
        "file_id": "s1", "file_unique_id": "s1u", "type": "regular", "width": 512,
        "height": 512, "is_animated": False, "is_video": False,
    }  # fmt: skip
    push_message(bot, USER, USER, sticker=sticker)
    bot.fake.push_text(USER, GROUP, "chatting in a group")
    push_message(bot, USER, GROUP, photo=photo)

    await bot.fake.wait_for_async(lambda: visible(bot).count(WHAT_I_DO) == 3, timeout=30)
    await bot.fake.wait_for_async(lambda: not bot.fake.pending_updates())
    bot.fake.push_text(USER, GROUP, "/start")  # answered: the group's updates were handled
    await bot.fake.wait_for_async(lambda: visible(bot, GROUP), timeout=30)

    assert visible(bot) == [WHAT_I_DO] * 3
    assert len(visible(bot, GROUP)) == 1 and visible(bot, GROUP)[0].startswith("Send me")


async def test_start_and_help_tell_the_trial_and_the_prices(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot(TRIAL_MINUTES="7")
    bot.fake.push_text(USER, USER, "/start")
    bot.fake.push_text(USER + 1, USER + 1, "/help", language_code="ru")

    [start] = await bot.fake.wait_for_async(lambda: visible(bot), timeout=30)
    [help_ru] = await bot.fake.wait_for_async(lambda: visible(bot, USER + 1), timeout=30)

    assert "7 free minutes" in start and "10 min — 5 ⭐" in start and "8888 min — 4444 ⭐" in start
    assert "7 минут бесплатно" in help_ru and "50 мин — 35 ⭐" in help_ru
    assert "<code>" not in help_ru, "plain words for the copy setting"


async def test_not_enough_minutes_says_the_units_and_offers_buy_buttons(start_bot) -> None:  # type: ignore[no-untyped-def]
    recognizer, prepare = scripted("never heard")
    bot: RunningBot = start_bot(prepare, TRIAL_MINUTES="0")
    file_id = bot.fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    bot.fake.push_voice(USER, USER, file_id, duration=10)

    refusal = "Not enough minutes: this recording needs 1 min, your balance is 0 min."
    [shown] = await bot.fake.wait_for_async(
        lambda: [m for m in bot.fake.sent_messages(USER) if refusal in m.plain_text],
        timeout=30,
    )

    offers = buttons(shown.reply_markup)
    assert offers and offers[0]["callback_data"] == "buy:m10", shown.reply_markup
    bot.fake.push_callback_query(
        USER, USER, offers[0]["callback_data"], message_id=shown.message_id
    )
    await bot.fake.wait_for_async(lambda: bot.fake.invoices(USER), timeout=30)
    assert recognizer.calls == 0


async def test_the_language_menu_marks_the_choice_and_leads_back(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot()
    fake = bot.fake
    fake.push_text(USER, USER, "/settings")
    [menu] = await fake.wait_for_async(
        lambda: [m for m in fake.sent_messages(USER) if m.reply_markup]
    )
    assert not any("<code>" in b["text"] for b in buttons(menu.reply_markup))

    fake.push_callback_query(USER, USER, "lang:de", message_id=menu.message_id)
    await fake.wait_for_async(lambda: len(fake.callback_answers()) == 1)
    fake.push_callback_query(USER, USER, "lang:menu", message_id=menu.message_id)
    await fake.wait_for_async(lambda: len(fake.callback_answers()) == 2)
    await fake.wait_for_async(
        lambda: any(
            b["text"] == "✓ Deutsch" for b in buttons(fake.sent_messages(USER)[0].reply_markup)
        )
    )
    languages = buttons(fake.sent_messages(USER)[0].reply_markup)
    assert [b["text"] for b in languages if b["text"].startswith("✓")] == ["✓ Deutsch"]
    [back] = [b for b in languages if b["text"] == "« Back"]

    fake.push_callback_query(USER, USER, back["callback_data"], message_id=menu.message_id)
    await fake.wait_for_async(lambda: len(fake.callback_answers()) == 3)
    await fake.wait_for_async(
        lambda: any(
            b["callback_data"] == "lang:menu"
            for b in buttons(fake.sent_messages(USER)[0].reply_markup)
        )
    )


async def test_balance_lines_are_in_the_users_language(start_bot) -> None:  # type: ignore[no-untyped-def]
    _, prepare = scripted("текст")
    bot: RunningBot = start_bot(prepare)
    file_id = bot.fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    bot.fake.push_voice(USER, USER, file_id, duration=10, language_code="ru")
    await bot.fake.wait_for_async(lambda: "текст" in visible(bot), timeout=60)
    await settled(bot)
    bot.fake.push_text(USER, USER, "/balance", language_code="ru")

    [report] = await bot.fake.wait_for_async(
        lambda: [t for t in visible(bot) if t.startswith("Осталось минут")], timeout=30
    )

    assert re.fullmatch(r"• \d\d\.\d\d \d\d:\d\d \d+ с — готово", report.splitlines()[1]), report
    assert "delivered" not in report


async def test_odd_owner_arguments_get_a_usage_line_not_an_exception(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot(OWNER_ID=str(OWNER))
    commands = [
        "/credit 99999999999999999999999 5",
        "/credit 5150 99999999999999999999999",
        "/credit abc 5",
        "/credit 5150 -3",
        "/credit ²³ 5",
        "/user 99999999999999999999999",
        "/user ٣",
    ]
    for command in commands:
        bot.fake.push_text(OWNER, OWNER, command)

    await bot.fake.wait_for_async(
        lambda: len(visible(bot, OWNER)) == len(commands), timeout=30, message="one reply each"
    )
    bot.fake.push_text(OWNER, OWNER, "/flush 99999999999999999999999999")
    await bot.fake.wait_for_async(
        lambda: any("flushed" in t for t in visible(bot, OWNER)), timeout=30
    )

    replies = visible(bot, OWNER)
    assert all(r.startswith("usage: ") for r in replies[: len(commands)]), replies
    assert await bot.container.accounts().get(5150) is None, "nothing was credited"
