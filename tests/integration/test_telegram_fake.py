"""The Telegram Bot API fake, exercised with the real python-telegram-bot client.

Why this exists: the bot's end-to-end tests trust this fake to answer the way Telegram
does, so every behaviour they rely on (envelopes, error mapping, files, long polling,
payments) is checked here against PTB itself, on a real socket; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
)
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from tests.fakes.telegram import TelegramFake, parse_html

USER = 4242


@pytest.fixture
def fake() -> Iterator[TelegramFake]:
    with TelegramFake() as server:
        yield server


@pytest.fixture
async def bot(fake: TelegramFake) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


async def test_get_me_identifies_the_bot(fake: TelegramFake, bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.username, me.is_bot) == (fake.bot_id, fake.bot_username, True)
    assert fake.methods_called()[:2] == ["getMe", "getMe"]  # initialize() calls it too


async def test_a_wrong_token_is_rejected_as_invalid(fake: TelegramFake) -> None:
    for token in ("987:AAwrong-token", "not-a-token"):
        with pytest.raises(InvalidToken):
            async with Bot(token, base_url=fake.base_url):  # initialize() calls getMe
                pass
    assert fake.calls == []


async def test_an_unknown_method_is_not_found(fake: TelegramFake, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": USER})

    assert fake.calls_to("sendTelepathy")[0].error_code == 404


async def test_send_message_records_the_call_and_returns_new_message_ids(
    fake: TelegramFake, bot: Bot
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="again:1")]])
    first = await bot.send_message(
        USER, "<b>Hello</b> &amp; welcome", parse_mode="HTML", reply_markup=keyboard
    )
    second = await bot.send_message(USER, "plain", reply_to_message_id=first.message_id)

    assert second.message_id == first.message_id + 1
    assert first.text == "Hello & welcome"
    assert first.reply_markup == keyboard
    assert second.reply_to_message is not None
    assert second.reply_to_message.message_id == first.message_id
    sent = fake.sent_messages(USER)
    assert [m.text for m in sent] == ["<b>Hello</b> &amp; welcome", "plain"]
    assert sent[0].plain_text == "Hello & welcome"
    assert sent[0].parse_mode == "HTML"
    assert sent[0].reply_markup == keyboard.to_dict()
    assert sent[1].reply_to_message_id == first.message_id
    assert fake.sent_messages(USER + 1) == []


async def test_text_longer_than_4096_utf16_units_is_rejected(bot: Bot) -> None:
    await bot.send_message(USER, "x" * 4096)
    await bot.send_message(USER, "🎙" * 2048)  # each takes two UTF-16 units
    await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")  # tags free

    for text in ("x" * 4097, "🎙" * 2049):
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(USER, text)


@pytest.mark.parametrize(
    "text",
    [
        "<b>never closed",
        "<foo>unknown</foo>",
        "2 < 3",
        "AT&T",
        "<b><i>crossed</b></i>",
        "</b>",
        "&nbsp;",
        '<span class="other">x</span>',
    ],
)
async def test_html_that_telegram_cannot_parse_is_rejected(bot: Bot, text: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER, text, parse_mode="HTML")


async def test_valid_html_and_other_parse_modes_are_accepted(bot: Bot) -> None:
    html = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s>"
        "<strike>k</strike><del>d</del><tg-spoiler>p</tg-spoiler>"
        '<span class="tg-spoiler">q</span><a href="https://t.me/x?a=1&amp;b=2">a</a>'
        "<blockquote expandable>bq</blockquote> 1 &gt; 0 &#39;&#x41;&quot;\n"
        '<pre><code class="language-python">print("&lt;")</code></pre>'
    )

    message = await bot.send_message(USER, html, parse_mode="HTML")

    assert message.text == 'bsieunskdpqabq 1 > 0 \'A"\nprint("<")'
    assert (await bot.send_message(USER, "2 < 3 & <b", parse_mode=None)).text == "2 < 3 & <b"
    with pytest.raises(BadRequest, match=r"(?i)unsupported parse_mode"):
        await bot.send_message(USER, "x", parse_mode="BBCode")


async def test_edit_message_text_replaces_the_text_once_it_differs(
    fake: TelegramFake, bot: Bot
) -> None:
    sent = await bot.send_message(USER, "Transcribing…")

    edited = await bot.edit_message_text("Done", chat_id=USER, message_id=sent.message_id)

    assert isinstance(edited, Message)
    assert edited.text == "Done"
    assert edited.edit_date is not None
    [edit] = fake.edits(USER)
    assert (edit.message_id, edit.text) == (sent.message_id, "Done")
    [record] = fake.sent_messages(USER)
    assert (record.text, record.history, record.edited) == ("Done", ["Transcribing…", "Done"], True)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Done", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.edit_message_text(
            "<b>x", chat_id=USER, message_id=sent.message_id, parse_mode="HTML"
        )


async def test_delete_message_and_chat_actions(fake: TelegramFake, bot: Bot) -> None:
    sent = await bot.send_message(USER, "temporary")
    await bot.send_chat_action(USER, "typing")

    assert await bot.delete_message(USER, sent.message_id)

    assert fake.sent_messages(USER)[0].deleted
    assert [action.action for action in fake.chat_actions(USER)] == ["typing"]
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(USER, "dancing")


async def test_send_document_uploads_bytes_that_can_be_downloaded_again(
    fake: TelegramFake, bot: Bot
) -> None:
    data = bytes(range(256)) * 40 + b"\r\n--not-a-boundary\r\n"

    message = await bot.send_document(
        USER, data, filename="transcript (1).txt", caption="<i>Full text</i>", parse_mode="HTML"
    )

    assert message.document is not None
    assert message.document.file_name == "transcript (1).txt"
    assert message.caption == "Full text"
    [document] = fake.documents(USER)
    assert (document.filename, document.data, document.caption) == (
        "transcript (1).txt",
        data,
        "<i>Full text</i>",
    )
    downloaded = await (await bot.get_file(message.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == data
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_document(USER, b"x", filename="a.txt", caption="c" * 1025)


async def test_get_file_downloads_registered_bytes_up_to_20_mb(
    fake: TelegramFake, bot: Bot
) -> None:
    voice = b"OggS\x00\x02" + bytes(5000)
    file_id = fake.register_file(voice, "unique-voice-1", file_path="voice/file_7.oga")
    too_big = fake.register_file(b"", file_size=20 * 1024 * 1024 + 1)

    file = await bot.get_file(file_id)

    assert (file.file_unique_id, file.file_size) == ("unique-voice-1", len(voice))
    assert file.file_path is not None and file.file_path.endswith("voice/file_7.oga")
    assert bytes(await file.download_as_bytearray()) == voice
    assert fake.downloads == ["voice/file_7.oga"]
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(too_big)
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("no-such-file")
    fake.download_limit_bytes = None  # a local Bot API server
    assert (await bot.get_file(too_big)).file_size == 20 * 1024 * 1024 + 1


async def test_get_updates_returns_pushed_updates_until_an_offset_acknowledges_them(
    fake: TelegramFake, bot: Bot
) -> None:
    file_id = fake.register_file(b"voice")
    pushed = fake.push_voice(USER, USER, file_id, duration=7, language_code="ru")
    fake.push_text(USER, USER, "/start ref_1")

    first, second = await bot.get_updates(timeout=0)

    assert first.update_id == pushed["update_id"]
    assert first.message is not None and first.message.voice is not None
    assert first.message.voice.to_dict() == {
        "file_id": file_id,
        "duration": 7,
        "file_size": 5,
        "file_unique_id": first.message.voice.file_unique_id,
        "mime_type": "audio/ogg",
    }
    assert first.message.from_user is not None
    assert first.message.from_user.language_code == "ru"
    assert first.message.chat.type == "private"
    assert second.message is not None and second.message.text == "/start ref_1"
    assert second.message.parse_entities() == {second.message.entities[0]: "/start"}
    assert len(await bot.get_updates(timeout=0)) == 2  # not acknowledged yet
    assert [u.update_id for u in await bot.get_updates(offset=second.update_id)] == [
        second.update_id
    ]
    assert await bot.get_updates(offset=second.update_id + 1, timeout=0) == ()
    assert fake.pending_updates() == []


async def test_get_updates_long_polls_until_an_update_arrives_or_the_timeout(
    fake: TelegramFake, bot: Bot
) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=dt.timedelta(milliseconds=200)) == ()
    assert 0.2 <= time.monotonic() - started < 10.0  # generous: a loaded machine is slow

    threading.Timer(0.1, lambda: fake.push_text(USER, USER, "hi")).start()
    started = time.monotonic()
    [update] = await bot.get_updates(timeout=10)
    assert time.monotonic() - started < 9  # woken by the update, before the 10 s timeout
    assert update.message is not None and update.message.text == "hi"


async def test_allowed_updates_filters_update_kinds(fake: TelegramFake, bot: Bot) -> None:
    fake.push_text(USER, USER, "text")
    fake.push_pre_checkout_query(USER, "XTR", 5, "plan:5")

    [update] = await bot.get_updates(timeout=0, allowed_updates=["pre_checkout_query"])

    assert update.pre_checkout_query is not None
    assert len(fake.pending_updates()) == 1  # the text message was dropped for good


async def test_a_newer_poll_ends_an_older_one_with_conflict(fake: TelegramFake, bot: Bot) -> None:
    """Two bot instances polling one token: Telegram ends the older request."""
    older = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_async(lambda: fake.calls_to("getUpdates"))
    async with Bot(fake.token, base_url=fake.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()

    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
        await older


async def test_every_update_builder_parses_with_ptb(fake: TelegramFake, bot: Bot) -> None:
    fake.push_audio(USER, USER, "audio-id", 200, file_name="talk.m4a", mime_type="audio/mp4")
    fake.push_video(USER, USER, "video-id", 30, update_id=500)
    fake.push_video_note(USER, USER, "note-id", 12)
    fake.push_document(USER, USER, "doc-id", mime_type="audio/wav", file_name="a.wav")
    sent = await bot.send_message(
        USER,
        "Pick",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]]),
    )
    fake.push_callback_query(USER, USER, "yes")
    fake.push_pre_checkout_query(USER, "XTR", 50, "plan:50", query_id="pcq-1")
    fake.push_successful_payment(
        USER, USER, "XTR", 50, "plan:50", telegram_payment_charge_id="charge-1"
    )

    updates = await bot.get_updates(timeout=0)

    audio, video, note, document, callback, checkout, paid = (u.to_dict() for u in updates)
    assert audio["message"]["audio"]["file_name"] == "talk.m4a"
    assert video["update_id"] == 500 and video["message"]["video"]["width"] == 640
    assert note["message"]["video_note"]["length"] == 240
    assert document["message"]["document"]["mime_type"] == "audio/wav"
    assert callback["callback_query"]["data"] == "yes"
    assert callback["callback_query"]["message"]["message_id"] == sent.message_id
    assert checkout["pre_checkout_query"]["invoice_payload"] == "plan:50"
    assert paid["message"]["successful_payment"]["telegram_payment_charge_id"] == "charge-1"
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)
    assert Update.de_json(paid, bot) is not None


async def test_callback_queries_are_answered_once(fake: TelegramFake, bot: Bot) -> None:
    fake.push_callback_query(USER, USER, "again", query_id="cb-1")

    assert await bot.answer_callback_query("cb-1", text="Working on it")

    assert [(a.callback_query_id, a.text) for a in fake.callback_answers()] == [
        ("cb-1", "Working on it")
    ]
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("cb-1")


@pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_forbidden_and_bad_request_can_be_scripted(
    fake: TelegramFake, bot: Bot
) -> None:
    fake.fail_next("sendMessage", 429, retry_after=3)
    fake.fail_next("sendmessage", 403, times=2, chat_id=USER + 1)
    fake.fail_next(
        "getFile", 400, "Bad Request: wrong file_id or the file is temporarily unavailable"
    )

    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(USER, "x")
    assert retry.value.retry_after == 3
    for _ in range(2):
        with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
            await bot.send_message(USER + 1, "x")
    with pytest.raises(BadRequest, match=r"(?i)temporarily unavailable"):
        await bot.get_file("whatever")

    assert (await bot.send_message(USER + 1, "now it works")).text == "now it works"
    assert [call.error_code for call in fake.calls_to("sendMessage")] == [429, 403, 403, None]


async def test_blocked_chats_and_latency(fake: TelegramFake, bot: Bot) -> None:
    fake.blocked_chats.add(USER)
    with pytest.raises(Forbidden):
        await bot.send_chat_action(USER, "typing")

    fake.set_latency("sendMessage", 0.2)
    started = time.monotonic()
    await bot.send_message(USER + 1, "slow")
    assert time.monotonic() - started >= 0.2


async def test_commands_are_stored_per_scope_and_language(fake: TelegramFake, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("balance", "Minutes")])
    await bot.set_my_commands([BotCommand("start", "Начать")], language_code="ru")

    assert [c.command for c in await bot.get_my_commands()] == ["start", "balance"]
    assert [c.description for c in await bot.get_my_commands(language_code="ru")] == ["Начать"]
    assert fake.my_commands()[1] == {"command": "balance", "description": "Minutes"}
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


async def test_stars_invoice_pre_checkout_and_refund(fake: TelegramFake, bot: Bot) -> None:
    message = await bot.send_invoice(
        USER,
        "60 minutes",
        "Transcription minutes",
        "plan:60",
        "XTR",
        [LabeledPrice("60 minutes", 100)],
    )
    fake.push_pre_checkout_query(USER, "XTR", 100, "plan:60", query_id="pcq-7")
    fake.push_successful_payment(
        USER, USER, "XTR", 100, "plan:60", telegram_payment_charge_id="stx-1"
    )

    assert message.invoice is not None and message.invoice.total_amount == 100
    [invoice] = fake.invoices(USER)
    assert (invoice.currency, invoice.payload, invoice.prices, invoice.provider_token) == (
        "XTR",
        "plan:60",
        [{"label": "60 minutes", "amount": 100}],
        None,
    )
    assert await bot.answer_pre_checkout_query("pcq-7", ok=True)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_pre_checkout_query("pcq-7", ok=True)
    assert await bot.refund_star_payment(USER, "stx-1")
    assert [(r.user_id, r.telegram_payment_charge_id) for r in fake.refunds()] == [(USER, "stx-1")]
    with pytest.raises(BadRequest, match=r"(?i)CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(USER, "stx-1")
    with pytest.raises(BadRequest, match=r"(?i)CHARGE_ID_INVALID"):
        await bot.refund_star_payment(USER, "stx-unknown")
    with pytest.raises(BadRequest, match=r"(?i)PAYMENT_PROVIDER_INVALID"):
        await bot.send_invoice(
            USER, "t", "d", "p", "XTR", [LabeledPrice("x", 1)], provider_token="tok"
        )


async def test_pre_checkout_queries_expire(fake: TelegramFake, bot: Bot) -> None:
    fake.pre_checkout_timeout_seconds = 0.05
    fake.push_pre_checkout_query(USER, "XTR", 1, "p", query_id="late")
    await asyncio.sleep(0.1)

    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_pre_checkout_query("late", ok=True)


class _WebhookSink(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str | None, dict[str, Any]]]]
    status = 200

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.headers.get("X-Telegram-Bot-Api-Secret-Token"), body))
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


async def test_webhook_settings_and_manual_delivery(fake: TelegramFake, bot: Bot) -> None:
    class Sink(_WebhookSink):
        received: ClassVar[list[tuple[str | None, dict[str, Any]]]] = []
        status = 500

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/telegram"
    try:
        fake.push_text(USER, USER, "one")
        fake.push_text(USER, USER, "two")
        assert await bot.set_webhook(url, secret_token="s3cr3t")
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == (url, 2)
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates(timeout=0)

        assert await fake.deliver_webhook_async() == [500]
        assert (await bot.get_webhook_info()).last_error_message is not None
        Sink.status = 200
        assert await fake.deliver_webhook_async() == [200, 200]

        assert [secret for secret, _ in Sink.received] == ["s3cr3t"] * 3
        assert [body["message"]["text"] for _, body in Sink.received] == ["one", "one", "two"]
        assert fake.pending_updates() == []
        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""
    finally:
        server.shutdown()
        server.server_close()


async def test_a_polling_application_receives_a_voice_and_replies(fake: TelegramFake) -> None:
    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.voice
        file = await context.bot.get_file(update.effective_message.voice.file_id)
        data = await file.download_as_bytearray()
        await update.effective_message.reply_text(f"got {len(data)} bytes", do_quote=True)

    application = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    application.add_handler(MessageHandler(filters.VOICE, reply))
    update = fake.push_voice(USER, USER, fake.register_file(b"\x00" * 321), duration=3)

    async with application:
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=dt.timedelta(seconds=1))
        await application.start()
        [answer] = await fake.wait_for_async(lambda: fake.sent_messages(USER), timeout=5)
        await application.updater.stop()
        await application.stop()

    assert answer.text == "got 321 bytes"
    assert answer.reply_to_message_id == update["message"]["message_id"]
    assert fake.methods_called()[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    assert fake.confirmed_offset == update["update_id"] + 1
    assert fake.pending_updates() == []


def test_wait_for_fails_with_the_calls_seen_so_far(fake: TelegramFake) -> None:
    with pytest.raises(AssertionError, match=r"a reply; methods called: \[\]"):
        fake.wait_for(lambda: fake.sent_messages(USER), timeout=0.05, message="a reply")


def test_the_html_checker_reports_telegram_style_details() -> None:
    assert parse_html("a <b>b</b> &amp;") == ("a b &", ("b", "/b"))
    with pytest.raises(ValueError, match='expected "</i>", found "</b>"'):
        parse_html("<b><i>x</b></i>")
    with pytest.raises(ValueError, match='Unsupported start tag "br" at byte offset 3'):
        parse_html("ё <br>")
