"""No secret in any log line, at any level, nor in ``voicescribe config``.

The bot runs with a distinctive value for every secret the configuration reads, talks to
the Telegram fake (with a distinctive token), DashScope (recognition and formatting) and
Gemini (the formatting fallback) fakes, goes through failures on each of them, and every
log record of every logger, DEBUG included, is searched for the secrets, traceback text
included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.e2e.conftest import RunningBot
from tests.e2e.test_cli import voicescribe
from tests.e2e.test_telegram_bot import USER, visible
from tests.fakes.dashscope_server import SERVER_ERROR, THROTTLED, FakeDashScope
from tests.fakes.gemini_server import GeminiFake
from tests.fakes.telegram import TelegramFake
from tests.media_clips import SAMPLES

BOT_TOKEN = "987654321:AAsecretTelegramTokenVoiceScribe_Xq7Zt3Lp9Wk"
API_SECRETS = {
    "DASHSCOPE_API_KEY": "sk-secretDashscopeKey-9f8e7d6c5b4a",
    "GOOGLE_API_KEY": "AIzaSecretGoogleKey-1a2b3c4d5e6f7g8h",
    "TELEGRAM_WEBHOOK_SECRET": "secretWebhookValue-0c1d2e3f4a5b6c7d",
    "ALIBABA_ACCESS_KEY_ID": "LTAIsecretAccessKeyId-5k4j3h2g",
    "ALIBABA_ACCESS_KEY_SECRET": "secretAccessKeySecret-8u7y6t5r4e3w",
}
LOGGERS = ("", "httpx", "httpcore", "telegram", "telegram.ext", "dashscope", "google_genai")
UNREADABLE = "This file could not be read as audio."


@pytest.fixture
def telegram_fake() -> Iterator[TelegramFake]:
    """The Bot API fake with a token that can only come from this test."""
    with TelegramFake(token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def dashscope() -> Iterator[FakeDashScope]:
    fake = FakeDashScope(api_key=API_SECRETS["DASHSCOPE_API_KEY"])
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture
def gemini() -> Iterator[GeminiFake]:
    with GeminiFake(api_key=API_SECRETS["GOOGLE_API_KEY"]) as fake:
        yield fake


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def record_text(record: logging.LogRecord) -> str:
    """The record as a handler would write it: message, traceback and stack included."""
    return logging.Formatter("%(name)s %(levelname)s %(message)s").format(record)


def shown(secret: str, text: str) -> bool:
    """The secret as is, URL-encoded (a download URL quotes the token's colon), or for a
    bot token its secret half alone."""
    forms = {secret, quote(secret, safe=""), secret.partition(":")[2] or secret}
    return any(form in text for form in forms)


def leaks(caplog: pytest.LogCaptureFixture, secret: str) -> list[str]:
    """``logger LEVEL: first line`` of every record that shows ``secret``."""
    return sorted(
        {
            f"{r.name} {r.levelname}: {r.getMessage().splitlines()[0][:160]}"
            for r in caplog.records
            if shown(secret, record_text(r))
        }
    )


async def exercise(bot: RunningBot, dashscope: FakeDashScope, gemini: GeminiFake) -> None:
    """Work that makes every client log: success, failures and retries on each service."""
    fake = bot.fake
    # A readable note: DashScope recognizes (after a 429), qwen fails, Gemini fails, then
    # formats it.
    dashscope.queue_asr(THROTTLED)
    dashscope.queue_llm(*[SERVER_ERROR] * 6)
    gemini.fail(500, times=1)
    fake.push_voice(USER, USER, fake.register_file((SAMPLES / "en-weather.ogg").read_bytes()), 10)
    await fake.wait_for_async(lambda: [t for t in visible(bot) if "speech of" in t], timeout=60)
    # An unreadable voice note, a failed download and a failed getFile.
    fake.push_voice(USER + 1, USER + 1, fake.register_file(b"not audio at all"), duration=3)
    await fake.wait_for_async(lambda: UNREADABLE in visible(bot, USER + 1), timeout=30)
    fake.fail_next("download", 500, times=10)
    fake.push_voice(USER + 2, USER + 2, fake.register_file(b"never downloaded"), duration=3)
    await fake.wait_for_async(lambda: len(visible(bot, USER + 2)) == 1, timeout=30)
    await fake.wait_for_async(lambda: "Received" not in visible(bot, USER + 2)[0], timeout=30)
    fake.fail_next("getFile", 400, "Bad Request: invalid file_id")
    fake.push_document(USER + 3, USER + 3, fake.register_file(b"x"), mime_type="audio/ogg")
    # A /start, then a sendMessage that fails (the error handler logs the update).
    fake.push_text(USER + 4, USER + 4, "/start")
    await fake.wait_for_async(lambda: visible(bot, USER + 4), timeout=15)
    fake.fail_next("sendMessage", 400, "Bad Request: chat not found", chat_id=USER + 5)
    fake.push_text(USER + 5, USER + 5, "/help")
    await fake.wait_for_async(
        lambda: [c for c in fake.calls_to("sendMessage") if c.error_code == 400], timeout=15
    )
    fake.fail_next("sendMessage", 500, chat_id=USER + 6, times=3)  # past the limiter's retries
    fake.push_text(USER + 6, USER + 6, "/balance")
    await fake.wait_for_async(lambda: not fake.pending_updates(), timeout=15)
    # The handler failed (logged with its traceback), and the update's retry answers.
    await fake.wait_for_async(lambda: visible(bot, USER + 6), timeout=60)
    await fake.wait_for_async(lambda: visible(bot, USER + 3), timeout=15)


def start_with_secrets(start_bot, dashscope: FakeDashScope, gemini: GeminiFake) -> RunningBot:  # type: ignore[no-untyped-def]
    return start_bot(  # type: ignore[no-any-return]
        **API_SECRETS,
        WHISPER_BACKEND="qwen-asr",
        FORMATTER_BACKEND="qwen",
        FORMAT_WORD_THRESHOLD="0",  # every text goes through qwen, then Gemini
        DASHSCOPE_BASE_URL=dashscope.base_url,
        GEMINI_BASE_URL=gemini.base_url,
    )


OUR_LOGGERS = ("application", "domain", "infrastructure", "entrypoints", "voicescribe")


async def test_no_secret_is_logged_and_our_code_never_logs_the_token(  # type: ignore[no-untyped-def]
    start_bot, dashscope: FakeDashScope, gemini: GeminiFake, everything_logged
) -> None:
    """No API key or secret in any logger at all; the bot token in none of voicescribe's
    own loggers (errors, tracebacks, the error handler's update dump, retry warnings).
    The token in third-party loggers is checked below."""
    bot = start_with_secrets(start_bot, dashscope, gemini)
    await exercise(bot, dashscope, gemini)

    records = everything_logged.records
    assert any(r.levelno == logging.DEBUG for r in records), "DEBUG captured"
    assert any(r.name.startswith(OUR_LOGGERS) and r.exc_info for r in records), "tracebacks too"
    assert dashscope.requests and gemini.requests, "the keys were in use"
    found = {name: leaks(everything_logged, value) for name, value in API_SECRETS.items()}
    assert found == {name: [] for name in API_SECRETS}
    ours = [line for line in leaks(everything_logged, BOT_TOKEN) if line.startswith(OUR_LOGGERS)]
    assert ours == []


async def test_the_bot_token_is_not_logged(  # type: ignore[no-untyped-def]
    start_bot, dashscope: FakeDashScope, gemini: GeminiFake, everything_logged
) -> None:
    bot = start_with_secrets(start_bot, dashscope, gemini)
    await exercise(bot, dashscope, gemini)

    assert leaks(everything_logged, BOT_TOKEN) == []


def test_voicescribe_config_masks_every_secret(tmp_path: Path) -> None:
    """Plain and verbose, on the embedded default and with the cloud adapters built (the
    qwen chain builds Gemini too, as its fallback)."""
    env = {**API_SECRETS, "TELEGRAM_BOT_TOKEN": BOT_TOKEN}
    cloud = {"WHISPER_BACKEND": "qwen-asr", "FORMATTER_BACKEND": "qwen"}
    for args, backends in ((("config",), {}), (("-v", "config"), cloud)):
        result = voicescribe(*args, data_dir=tmp_path / "var", **env, **backends)
        assert result.returncode == 0, result.stderr
        output = result.stdout + result.stderr
        if backends:
            assert "gemini" in output.lower(), "the Gemini fallback was built"
        for name, value in env.items():
            assert not shown(value, output), f"{name} shown by `voicescribe {' '.join(args)}`"
            assert value[-4:] in output, f"{name} masked, its last characters kept"
