"""Edits are not new requests: Telegram delivers an edited message as an
``edited_message`` update, which PTB's handlers match by default. An edited owner command
must not run again (``/credit 123 5`` edited into ``/credit 123 6`` grants once), and an
edited voice note (a caption added) must not start a second job or status message."""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

from tests.e2e.conftest import RunningBot
from tests.e2e.test_telegram_bot import scripted, visible
from tests.media_clips import SAMPLES

OWNER = 9000
USER = 123


def edited(update: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The ``edited_message`` update Telegram sends when ``update``'s message is edited."""
    message = copy.deepcopy(update["message"]) | changes
    message["edit_date"] = message["date"] + 5
    return {"edited_message": message}


async def handled(bot: RunningBot, update: dict[str, Any], within: float = 60) -> None:
    """Wait until the inbox recorded ``update`` as handled (whatever the bot did with it)."""
    key = f"update:{update['update_id']}"

    def finished(conn: Any) -> bool:
        row = conn.execute(
            "SELECT finished FROM processed_updates WHERE update_key = ?", (key,)
        ).fetchone()
        return row is not None and row[0] == 1

    deadline = time.monotonic() + within
    while not await bot.container.sqlite().read(finished):
        assert time.monotonic() < deadline, f"{key} not handled within {within} s"
        await asyncio.sleep(0.02)


async def test_an_edited_credit_command_grants_only_once(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot(OWNER_ID=str(OWNER))
    fake = bot.fake
    original = fake.push_text(OWNER, OWNER, f"/credit {USER} 5")
    await fake.wait_for_async(
        lambda: [t for t in visible(bot, OWNER) if "credited 5" in t], timeout=60
    )

    edit = fake.push_raw(edited(original, text=f"/credit {USER} 6"))
    await handled(bot, edit)

    account = await bot.container.accounts().get(USER)
    assert account is not None and account.granted == 5, account
    assert not [t for t in visible(bot, OWNER) if "credited 6" in t]
    assert len([t for t in visible(bot, OWNER) if "credited" in t]) == 1


async def test_an_edited_user_command_is_not_answered_again(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = start_bot()
    fake = bot.fake
    original = fake.push_text(USER, USER, "/balance")
    await fake.wait_for_async(lambda: visible(bot, USER), timeout=60)

    edit = fake.push_raw(edited(original, text="/help"))
    await handled(bot, edit)

    assert len(visible(bot, USER)) == 1, visible(bot, USER)


async def test_an_edited_voice_note_starts_nothing(start_bot) -> None:  # type: ignore[no-untyped-def]
    recognizer, prepare = scripted("hello from the edited note test")
    bot: RunningBot = start_bot(prepare)
    fake = bot.fake
    file_id = fake.register_file((SAMPLES / "en-weather.ogg").read_bytes())
    original = fake.push_voice(USER, USER, file_id, duration=10)
    await fake.wait_for_async(
        lambda: [t for t in visible(bot, USER) if "edited note test" in t], timeout=60
    )
    messages_before = len(fake.sent_messages(USER))
    edits_before = len(fake.edits(USER))

    edit = fake.push_raw(edited(original, caption="my caption"))
    await handled(bot, edit)

    assert recognizer.calls == 1
    jobs = await bot.container.jobs().list_by_user(USER, 10)
    assert len(jobs) == 1, jobs
    assert len(fake.sent_messages(USER)) == messages_before, "no new status or answer"
    assert len(fake.edits(USER)) == edits_before, "no status restarted"
    account = await bot.container.accounts().get(USER)
    assert account is not None and (account.spent, account.reserved) == (1, 0)
