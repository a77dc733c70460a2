"""The Telegram fault matrix: Telegram pushes back (429 with ``retry_after``, 500, a
dropped connection) on each Bot API call a note's journey, a command, a settings tap or a
payment makes, in polling and in webhook mode; every note still ends with exactly one
result (each part once) or one clear notice, every command gets its answer.

One bot per (mode, fault): each scenario talks in its own chat and scripts its fault for
that chat only, so the scenarios run side by side; the calls that name no chat (getFile,
the download, answerCallbackQuery) are scripted one at a time afterwards. A failing test
names every scenario that broke.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from application.commands import Setting
from domain.jobs import OutputMode, UserStyle
from entrypoints.telegram.keyboards import setting_data
from entrypoints.telegram.texts import describe_setting
from tests.e2e.conftest import BotUnderTest
from tests.e2e.test_telegram_bot import scripted
from tests.fakes.telegram import TelegramFake
from tests.fakes.telegram.fake import DROPPED_CONNECTION
from tests.media_clips import long_speech, long_voice_note

TRANSCRIPT = long_speech(110)  # ~5,600 characters: two messages
TIMEOUT = 90.0

FAULTS = {"429": (429, 1), "500": (500, None), "network": (DROPPED_CONNECTION, None)}

Scenario = Callable[["Journey"], Awaitable[None]]


class Journey:
    """One scenario's chat with the bot under test."""

    def __init__(self, bot: BotUnderTest, chat: int, fault: tuple[int, int | None]) -> None:
        self.bot, self.chat, self.fault = bot, chat, fault
        self.fake: TelegramFake = bot.fake
        self.scripted: list[tuple[str, bool]] = []

    def faults_fired(self) -> None:
        """Each scripted fault really met a call (else the scenario proved nothing)."""
        chat = str(self.chat)
        for method, in_chat in self.scripted:
            unspent = [
                f
                for f in self.fake.unspent_failures()
                if f[0] == method.lower() and (str(f[1]) == chat if in_chat else f[1] is None)
            ]
            assert not unspent, f"the {method} fault met no call"

    def fail(self, method: str, *, after: int = 0, chat: bool = True) -> None:
        code, retry_after = self.fault
        self.scripted.append((method, chat))
        self.fake.fail_next(
            method,
            code,
            retry_after=retry_after,
            chat_id=self.chat if chat else None,
            after=after,
        )

    def visible(self) -> list[str]:
        return [m.plain_text for m in self.fake.sent_messages(self.chat) if not m.deleted]

    async def send_note(self, duration: int = 5) -> None:
        """A note Telegram says lasts ``duration`` (so short ones are handled at once),
        long enough to hold the long transcript (the measured length judges the text)."""
        file_id = self.fake.register_file(long_voice_note())
        await self.bot.deliver(self.fake.push_voice(self.chat, self.chat, file_id, duration))

    async def command(self, text: str) -> None:
        await self.bot.deliver(self.fake.push_text(self.chat, self.chat, text))

    async def wait_until(self, predicate: Callable[[], Any], what: str) -> Any:
        return await self.fake.wait_for_async(predicate, timeout=TIMEOUT, message=what)

    async def jobs_finished(self) -> None:
        """Every job of this chat is finished (its answer, status deletion included, done)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while True:
            jobs = await self.bot.container.jobs().list_by_user(self.chat, 10)
            if jobs and all(job.status.is_finished for job in jobs):
                return
            assert loop.time() < deadline, f"jobs of chat {self.chat} unfinished: {jobs}"
            await asyncio.sleep(0.05)

    async def answered_once(self) -> None:
        """The whole transcript is visible, each of its two parts once."""
        await self.wait_until(lambda: len(self.parts()) >= 2, "both parts of the answer")
        await self.bot.settled(TIMEOUT)
        await self.jobs_finished()
        parts = self.parts()
        assert len(parts) == 2, f"{len(parts)} parts visible"
        assert "".join(parts).count("long recording & it") == 110, "nothing lost"

    def parts(self) -> list[str]:
        return [t for t in self.visible() if "long recording" in t]


# -- a note's journey --------------------------------------------------------------------


async def status_reply(journey: Journey) -> None:
    journey.fail("sendMessage")  # the first message to the chat: "Received"
    await journey.send_note()
    await journey.answered_once()


async def chat_action(journey: Journey) -> None:
    journey.fail("sendChatAction")
    await journey.send_note()
    await journey.answered_once()


async def progress_edit(journey: Journey) -> None:
    journey.fail("editMessageText")
    await journey.send_note()
    await journey.answered_once()


async def second_part(journey: Journey) -> None:
    journey.fail("sendMessage", after=2)  # "Received" and part one pass
    await journey.send_note()
    await journey.answered_once()


async def status_deletion(journey: Journey) -> None:
    journey.fail("deleteMessage")
    await journey.send_note()
    await journey.answered_once()


async def document_upload(journey: Journey) -> None:
    await journey.bot.container.preferences().save(journey.chat, UserStyle(output=OutputMode.FILE))
    journey.fail("sendDocument")
    await journey.send_note()
    await journey.wait_until(lambda: journey.fake.documents(journey.chat), "the .txt")
    await journey.bot.settled(TIMEOUT)
    await journey.jobs_finished()
    [document] = journey.fake.documents(journey.chat)
    assert document.data is not None and document.data.count(b"long recording") == 110
    previews = [t for t in journey.visible() if "long recording" in t]
    assert len(previews) == 1, f"{len(previews)} previews"


async def refusal_edit(journey: Journey) -> None:
    journey.fail("editMessageText")  # the refusal replaces "Received"
    await journey.send_note(duration=3600)  # 60 minutes: more than the trial's 15
    await journey.wait_until(
        lambda: [t for t in journey.visible() if "Not enough minutes" in t], "the refusal"
    )
    await journey.bot.settled(TIMEOUT)
    refusals = [t for t in journey.visible() if "Not enough minutes" in t]
    assert len(refusals) == 1, f"{len(refusals)} refusals"


# -- commands, settings, payments ------------------------------------------------------


async def command_reply(journey: Journey) -> None:
    journey.fail("sendMessage")
    await journey.command("/help")
    await journey.wait_until(journey.visible, "the answer to /help")
    await journey.bot.settled(TIMEOUT)
    assert len(journey.visible()) == 1, journey.visible()


async def setting_command_reply(journey: Journey) -> None:
    journey.fail("sendMessage")
    await journey.command("/code")
    await journey.wait_until(journey.visible, "the answer to /code")
    await journey.bot.settled(TIMEOUT)
    assert journey.visible() == [describe_setting("code", UserStyle(use_code_tags=True), None)]
    stored = await journey.bot.container.preferences().get(journey.chat)
    assert stored is not None and stored.use_code_tags, "flipped once, not back"


async def keyboard_redraw(journey: Journey) -> None:
    fake = journey.fake
    await journey.command("/settings")
    [keyboard] = await journey.wait_until(
        lambda: [m for m in fake.sent_messages(journey.chat) if m.reply_markup], "the keyboard"
    )
    journey.fail("editMessageText")
    tap = fake.push_callback_query(
        journey.chat, journey.chat, setting_data(Setting.CODE, True), message_id=keyboard.message_id
    )
    await journey.bot.deliver(tap)
    await journey.wait_until(
        lambda: [e for e in fake.edits(journey.chat) if "on" in str(e.reply_markup or "")],
        "the keyboard redrawn",
    )
    await journey.bot.settled(TIMEOUT)
    stored = await journey.bot.container.preferences().get(journey.chat)
    assert stored is not None and stored.use_code_tags, "set once, and it stays set"
    [redrawn] = [m for m in fake.sent_messages(journey.chat) if m.reply_markup]
    buttons = [b["callback_data"] for row in redrawn.reply_markup["inline_keyboard"] for b in row]
    assert setting_data(Setting.CODE, False) in buttons, "the button now turns it off"


async def payment_confirmation(journey: Journey) -> None:
    journey.fail("sendMessage")
    payload = f"vs1:m50:{journey.chat}"
    paid = journey.fake.push_successful_payment(
        journey.chat, journey.chat, "XTR", 35, payload, telegram_payment_charge_id="ch-1"
    )
    await journey.bot.deliver(paid)
    await journey.wait_until(
        lambda: [t for t in journey.visible() if "minutes added" in t], "the confirmation"
    )
    await journey.bot.settled(TIMEOUT)
    assert len([t for t in journey.visible() if "minutes added" in t]) == 1
    account = await journey.bot.container.accounts().get(journey.chat)
    assert account is not None and account.purchased == 50, "credited once"


# -- calls that name no chat: one at a time ----------------------------------------------


async def file_lookup(journey: Journey) -> None:
    journey.fail("getFile", chat=False)
    await journey.send_note()
    await journey.answered_once()


async def download(journey: Journey) -> None:
    journey.fail("download", chat=False)
    await journey.send_note()
    await journey.answered_once()


async def callback_answer(journey: Journey) -> None:
    fake = journey.fake
    await journey.command("/settings")
    [keyboard] = await journey.wait_until(
        lambda: [m for m in fake.sent_messages(journey.chat) if m.reply_markup], "the keyboard"
    )
    answered_before = len(fake.callback_answers())
    journey.fail("answerCallbackQuery", chat=False)
    tap = fake.push_callback_query(
        journey.chat, journey.chat, setting_data(Setting.YO, False), message_id=keyboard.message_id
    )
    await journey.bot.deliver(tap)
    await journey.wait_until(
        lambda: [a for a in fake.callback_answers()[answered_before:] if a.text == "Saved."],
        "the answer",
    )
    await journey.bot.settled(TIMEOUT)
    stored = await journey.bot.container.preferences().get(journey.chat)
    assert stored is not None and not stored.use_yo


SIDE_BY_SIDE: list[Scenario] = [
    status_reply,
    chat_action,
    progress_edit,
    second_part,
    status_deletion,
    document_upload,
    refusal_edit,
    command_reply,
    setting_command_reply,
    keyboard_redraw,
    payment_confirmation,
]
ONE_AT_A_TIME: list[Scenario] = [file_lookup, download, callback_answer]


async def run(scenario: Scenario, journey: Journey) -> None:
    await scenario(journey)
    journey.faults_fired()


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_every_note_and_command_is_answered_once_whatever_telegram_does(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]], fault: str
) -> None:
    _, prepare = scripted(TRANSCRIPT)
    bot = await bot_in_each_mode(prepare)
    chats = {scenario: 61_000 + index for index, scenario in enumerate(SIDE_BY_SIDE)}
    outcomes = await asyncio.gather(
        *(run(scenario, Journey(bot, chat, FAULTS[fault])) for scenario, chat in chats.items()),
        return_exceptions=True,
    )
    broken = {
        scenario.__name__: repr(outcome)
        for scenario, outcome in zip(chats, outcomes, strict=True)
        if isinstance(outcome, BaseException)
    }
    for index, scenario in enumerate(ONE_AT_A_TIME):
        try:
            await run(scenario, Journey(bot, 62_000 + index, FAULTS[fault]))
        except Exception as error:
            broken[scenario.__name__] = repr(error)
    assert not broken, f"{bot.mode}, {fault}: " + "; ".join(
        f"{name}: {why}" for name, why in broken.items()
    )


async def test_telegram_refusing_the_status_or_its_edit_loses_neither_note_nor_refusal(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    """A refusal that no retry gets past (403 here): the note is accepted without a status
    message (its answer a new message), and a refusal whose edit is refused is sent anew."""
    _, prepare = scripted(TRANSCRIPT)
    bot = await bot_in_each_mode(prepare)
    fault = (403, None)
    answered, refused = Journey(bot, 63_001, fault), Journey(bot, 63_002, fault)
    answered.fail("sendMessage")  # "Received"
    refused.fail("editMessageText")  # "Received" into the refusal
    await answered.send_note()
    await refused.send_note(duration=3600)
    await answered.answered_once()
    await refused.wait_until(
        lambda: [t for t in refused.visible() if "Not enough minutes" in t], "the refusal"
    )
    await bot.settled(TIMEOUT)
    assert [t for t in refused.visible() if "Not enough minutes" in t] == refused.visible()
    jobs = await bot.container.jobs().list_by_user(answered.chat, 10)
    assert [j.status_message_id for j in jobs] == [None], "accepted at the first try"
    statuses = [
        c for c in bot.fake.calls_to("sendMessage")
        if str(c.params.get("chat_id")) == str(answered.chat) and "Received" in c.params["text"]
    ]  # fmt: skip
    assert len(statuses) == 1, "the update was not handled twice"


async def test_a_tap_handled_twice_or_on_a_stale_keyboard_sets_the_value_once(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    bot = await bot_in_each_mode()
    journey = Journey(bot, 63_003, (400, None))
    await journey.command("/settings")
    [keyboard] = await journey.wait_until(
        lambda: [m for m in bot.fake.sent_messages(journey.chat) if m.reply_markup], "keyboard"
    )
    for _ in range(2):  # the second tap: the same button before the redraw reached the user
        tap = bot.fake.push_callback_query(
            journey.chat,
            journey.chat,
            setting_data(Setting.CODE, True),
            message_id=keyboard.message_id,
        )
        await bot.deliver(tap)
    await journey.wait_until(lambda: len(bot.fake.callback_answers()) == 2, "both answered")
    await bot.settled(TIMEOUT)
    stored = await bot.container.preferences().get(journey.chat)
    assert stored is not None and stored.use_code_tags, "on, not flipped back"


async def test_a_payment_whose_confirmation_was_refused_is_confirmed_by_the_retry(
    bot_in_each_mode: Callable[..., Awaitable[BotUnderTest]],
) -> None:
    bot = await bot_in_each_mode()
    journey = Journey(bot, 63_004, (400, None))
    await payment_confirmation(journey)
