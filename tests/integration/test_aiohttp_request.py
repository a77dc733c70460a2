"""PTB on the aiohttp backend against the Bot API fake: forms, uploads, downloads, errors."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from infrastructure.telegram.aiohttp_request import AiohttpRequest
from tests.fakes.telegram import TelegramFake

CHAT = 4242


@pytest.fixture
async def bot(telegram_fake: TelegramFake) -> AsyncIterator[Bot]:
    bot = Bot(
        telegram_fake.token,
        base_url=telegram_fake.base_url,
        base_file_url=telegram_fake.base_file_url,
        request=AiohttpRequest(pool_size=2, read_timeout=2.0),
    )
    async with bot:
        yield bot


async def test_form_parameters_arrive_as_sent(bot: Bot, telegram_fake: TelegramFake) -> None:
    telegram_fake.push_text(CHAT, CHAT, "hi")  # the fake learns the chat
    sent = await bot.send_message(CHAT, "<b>ё &amp; 日本</b>", parse_mode="HTML")
    [message] = telegram_fake.sent_messages(CHAT)
    assert message.text == "<b>ё &amp; 日本</b>" and message.parse_mode == "HTML"
    assert sent.message_id == message.message_id


async def test_a_document_upload_carries_its_fields_and_bytes(
    bot: Bot, telegram_fake: TelegramFake
) -> None:
    telegram_fake.push_text(CHAT, CHAT, "hi")
    content = "строка\n".encode() * 5000
    await bot.send_document(CHAT, content, filename="transcript.txt", caption="the text")
    [document] = telegram_fake.documents(CHAT)
    assert document.data == content
    assert document.filename == "transcript.txt" and document.caption == "the text"


async def test_a_file_downloads_whole(bot: Bot, telegram_fake: TelegramFake) -> None:
    data = bytes(range(256)) * 4000
    file_id = telegram_fake.register_file(data)
    file = await bot.get_file(file_id)
    assert bytes(await file.download_as_bytearray()) == data


async def test_telegram_errors_keep_their_meaning(bot: Bot, telegram_fake: TelegramFake) -> None:
    telegram_fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    with pytest.raises(RetryAfter) as throttled:
        await bot.send_message(CHAT, "x")
    assert str(throttled.value) == "Flood control exceeded. Retry in 3 seconds"
    telegram_fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(CHAT, "x")


async def test_a_slow_answer_times_out(bot: Bot, telegram_fake: TelegramFake) -> None:
    telegram_fake.set_latency("sendMessage", 5.0)
    started = asyncio.get_running_loop().time()
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "x", read_timeout=0.3, write_timeout=0.1)
    assert asyncio.get_running_loop().time() - started < 2.0


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once the socket is closed
    request = AiohttpRequest(pool_size=1, connect_timeout=1.0)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.do_request(f"http://127.0.0.1:{port}/bot1:x/getMe", "POST")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()


async def test_it_must_be_initialized_and_shuts_down_twice_quietly() -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/", "POST")
    await request.initialize()
    await request.initialize()
    await request.shutdown()
    await request.shutdown()
