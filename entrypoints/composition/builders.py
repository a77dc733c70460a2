"""Builder functions the container calls for adapters that hold resources.

Each one registers its adapter's ``close`` with ``Closing``, so shutdown closes exactly
what this process opened.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from application.ports import AudioConverter, TextFormatter, UploadStorage
from domain.policies import AudioEncoding
from entrypoints.composition.closing import Closing
from entrypoints.composition.settings import Settings
from infrastructure.cloud_credentials import AccessKey, CloudCredentials
from infrastructure.dashscope import DashScopeRecognizer, QwenFormatter
from infrastructure.gemini import GeminiFormatter
from infrastructure.local.uploads import LocalUploadStorage
from infrastructure.mns import MnsJobQueue
from infrastructure.sqlite import SqliteDatabase
from infrastructure.tablestore import TablestoreConnection
from infrastructure.telegram.aiohttp_request import AiohttpRequest
from infrastructure.telegram.rate_limiter import TelegramLimits, TelegramRateLimiter
from infrastructure.telegram.tolerant_bot import TolerantBot


def open_sqlite(data_dir: str, closing: Closing) -> SqliteDatabase:
    database = SqliteDatabase(Path(data_dir).expanduser() / "voicescribe.sqlite3")
    closing.register("sqlite", database.close)
    return database


def open_uploads(settings: Settings) -> UploadStorage:
    """Mini App uploads in OSS when OSS_BUCKET is set, else under
    VOICESCRIBE_DATA_DIR/uploads/."""
    if settings.oss_bucket:
        try:  # imported only here: the Function Compute package does not ship oss2
            from infrastructure.oss import OssUploadStorage
        except ImportError as error:
            raise RuntimeError(
                "Mini App uploads to OSS need the oss2 package, which the Function Compute "
                "package does not ship (PyPI has oss2 and crcmod as source only); leave "
                "WEBAPP_URL and OSS_BUCKET empty there"
            ) from error
        key_id, key_secret, token = settings.alibaba_keys
        return OssUploadStorage(
            settings.oss_endpoint, settings.oss_bucket, key_id, key_secret, token
        )
    return LocalUploadStorage(settings.data_dir / "uploads")


def models_dir(data_dir: str, configured: str = "") -> Path:
    """Where the packaged model is assembled: ``WHISPER_MODELS_DIR``, else the data dir's
    ``models`` (one assembled copy can serve many data directories, or a read-only image)."""
    return Path(configured or Path(data_dir) / "models").expanduser()


def open_dashscope_recognizer(
    api_key: str,
    base_url: str,
    model: str,
    closing: Closing,
    *,
    audio_format: str = "opus",
    converter: AudioConverter | None = None,
) -> DashScopeRecognizer:
    """``converter``: for falling back to MP3 should DashScope refuse OGG/Opus."""
    recognizer = DashScopeRecognizer(
        api_key, base_url, model, audio_format=AudioEncoding(audio_format), converter=converter
    )
    closing.register("dashscope recognizer", recognizer.close)
    return recognizer


def open_qwen(api_key: str, base_url: str, model: str, closing: Closing) -> QwenFormatter:
    formatter = QwenFormatter(api_key, base_url, model)
    closing.register("qwen", formatter.close)
    return formatter


def open_gemini(api_key: str, base_url: str, model: str, closing: Closing) -> GeminiFormatter:
    formatter = GeminiFormatter(api_key, base_url or None, model)
    closing.register("gemini", formatter.close)
    return formatter


def cloud_credentials(settings: Settings) -> CloudCredentials:
    """The keys Tablestore and MNS sign with, one source for both: the configured ones, or
    the function role's; the FC handlers rotate it from each invocation's context."""
    return CloudCredentials(AccessKey(*settings.alibaba_keys))


def open_mns(
    endpoint: str,
    credentials: CloudCredentials,
    *,
    queue_name: str,
    visibility_seconds: float,
    closing: Closing,
) -> MnsJobQueue:
    queue = MnsJobQueue(
        endpoint,
        "",
        "",
        queue_name,
        visibility_timeout_seconds=visibility_seconds,
        credentials=credentials,
    )
    closing.register("mns", queue.close)
    return queue


def chain(primary: TextFormatter, fallbacks: Sequence[TextFormatter]) -> tuple[TextFormatter, ...]:
    return (primary, *fallbacks)


def open_telegram_bot(
    token: str, api_base_url: str, closing: Closing, limits: TelegramLimits | None = None
) -> TolerantBot:
    """One Bot (one HTTP connection pool) per process, for the bot and the workers; every
    call it makes is throttled and retried by one ``TelegramRateLimiter``."""
    api = api_base_url.rstrip("/")
    # httpx logs every request URL at INFO and PTB logs URLs at DEBUG: both carry the
    # token. Keep them quiet; our own loggers never print it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.INFO)
    # The bot's own logger (an ExtBot's is "telegram.ext.ExtBot") logs every call's
    # parameters and results at DEBUG: keep it at INFO whatever "telegram.ext" is set to.
    logging.getLogger("telegram.ext.ExtBot").setLevel(logging.INFO)
    bot = TolerantBot(
        token,
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        request=AiohttpRequest(pool_size=16, read_timeout=30, write_timeout=60),
        get_updates_request=AiohttpRequest(pool_size=1, read_timeout=30),
        rate_limiter=TelegramRateLimiter(limits or TelegramLimits()),
    )
    closing.register("telegram bot", bot.shutdown)
    return bot


def telegram_limits(settings: Settings) -> TelegramLimits:
    """Telegram's limits and the retry budget, as configured."""
    return TelegramLimits(
        messages_per_second=settings.telegram_messages_per_second,
        group_messages_per_minute=settings.telegram_group_messages_per_minute,
        max_retry_seconds=settings.telegram_max_retry_seconds,
        network_retries=settings.telegram_network_retries,
    )


def telegram_download_limit(settings: Settings) -> int:
    """TELEGRAM_DOWNLOAD_LIMIT_MB, else what the Bot API serves: a local Bot API server
    files up to 2 GB, the public one up to 20 MB."""
    return settings.download_limit_bytes


def open_tablestore(
    endpoint: str, credentials: CloudCredentials, instance: str, closing: Closing
) -> TablestoreConnection:
    connection = TablestoreConnection(endpoint, "", "", instance, credentials=credentials)
    closing.register("tablestore", connection.close)
    return connection
