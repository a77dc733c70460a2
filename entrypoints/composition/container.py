"""The dependency-injection container: the only place that knows every adapter.

``Selector`` providers pick each port's adapter from the configuration; everything is
built lazily, so a backend that is not selected is never imported into use or opened.
The configuration is decided once, from the typed ``Settings`` and the channel the
entrypoint talks through, when the container is built; nothing changes it afterwards.
Tests override providers with fakes (``container.recognizer.override(...)``).
"""

from __future__ import annotations

from enum import StrEnum

import attrs
from dependency_injector import containers, providers

from application.bootstrap import Ports, Tuning, bootstrap
from domain.catalogue import parse_packages
from domain.policies import TranscriptionPolicy
from entrypoints.composition import builders
from entrypoints.composition.closing import Closing
from entrypoints.composition.settings import Settings
from infrastructure.audio import PyAvConverter
from infrastructure.local.console_messenger import ConsoleMessenger
from infrastructure.local.files import LocalFileSource
from infrastructure.local.formatter import ParagraphFormatter
from infrastructure.local.log_alerts import LoggedAlerts
from infrastructure.local.no_payments import NoPayments
from infrastructure.local.system_clock import SystemClock
from infrastructure.sqlite import (
    SqliteAccountRepository,
    SqliteActionResults,
    SqliteChatRepository,
    SqliteJobQueue,
    SqliteJobRepository,
    SqlitePaymentRepository,
    SqlitePreferencesRepository,
    SqliteProcessedUpdates,
    SqliteUserDataEraser,
)
from infrastructure.sqlite.throughput import SqliteThroughput
from infrastructure.tablestore import (
    TablestoreAccountRepository,
    TablestoreActionResults,
    TablestoreChatRepository,
    TablestoreJobRepository,
    TablestorePaymentRepository,
    TablestorePreferencesRepository,
    TablestoreProcessedUpdates,
    TablestoreThroughput,
    TablestoreUserDataEraser,
)
from infrastructure.telegram import TelegramFileSource, TelegramMessenger, TelegramStarsGateway
from infrastructure.telegram.alerts import TelegramOwnerAlerts
from infrastructure.telegram.delayed_status import DelayedStatus
from infrastructure.uploaded_files import UploadedFileSource
from infrastructure.whisper import WhisperRecognizer


class Channel(StrEnum):
    """Where answers go: the console (the CLI) or Telegram (the bot, workers, FC)."""

    CONSOLE = "console"
    TELEGRAM = "telegram"


class Container(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)
    settings = providers.Dependency(instance_of=Settings)

    closing = providers.Singleton(Closing)
    clock = providers.Singleton(SystemClock)
    sqlite = providers.Singleton(builders.open_sqlite, config.data_dir, closing)

    cloud_credentials = providers.Singleton(builders.cloud_credentials, settings)
    tablestore = providers.Singleton(
        builders.open_tablestore,
        config.tablestore_endpoint,
        cloud_credentials,
        config.tablestore_instance,
        closing,
    )

    jobs = providers.Selector(
        config.storage_backend,
        sqlite=providers.Singleton(SqliteJobRepository, sqlite),
        tablestore=providers.Singleton(TablestoreJobRepository, tablestore),
    )
    accounts = providers.Selector(
        config.storage_backend,
        sqlite=providers.Singleton(SqliteAccountRepository, sqlite),
        tablestore=providers.Singleton(TablestoreAccountRepository, tablestore),
    )
    queue = providers.Selector(
        config.queue_backend,
        sqlite=providers.Singleton(
            SqliteJobQueue, sqlite, visibility_timeout_seconds=config.queue_visibility_seconds
        ),
        mns=providers.Singleton(
            builders.open_mns,
            config.mns_endpoint,
            cloud_credentials,
            queue_name=config.mns_queue,
            visibility_seconds=config.queue_visibility_seconds,
            closing=closing,
        ),
    )
    preferences = providers.Selector(
        config.storage_backend,
        sqlite=providers.Singleton(SqlitePreferencesRepository, sqlite),
        tablestore=providers.Singleton(TablestorePreferencesRepository, tablestore),
    )
    chats = providers.Selector(
        config.storage_backend,
        sqlite=providers.Singleton(SqliteChatRepository, sqlite),
        tablestore=providers.Singleton(TablestoreChatRepository, tablestore),
    )
    processed_updates = providers.Selector(
        config.storage_backend,
        sqlite=providers.Singleton(SqliteProcessedUpdates, sqlite),
        tablestore=providers.Singleton(TablestoreProcessedUpdates, tablestore),
    )
    action_results = providers.Selector(
        config.storage_backend,
        sqlite=providers.Singleton(SqliteActionResults, sqlite),
        tablestore=providers.Singleton(TablestoreActionResults, tablestore),
    )
    payments = providers.Selector(
        config.storage_backend,
        sqlite=providers.Singleton(SqlitePaymentRepository, sqlite),
        tablestore=providers.Singleton(TablestorePaymentRepository, tablestore),
    )
    erasure = providers.Selector(
        config.storage_backend,
        sqlite=providers.Singleton(SqliteUserDataEraser, sqlite),
        tablestore=providers.Singleton(TablestoreUserDataEraser, tablestore),
    )
    # The ETA's learned throughput, kept with the rest of the state.
    throughput = providers.Selector(
        config.storage_backend,
        sqlite=providers.Singleton(SqliteThroughput, sqlite),
        tablestore=providers.Singleton(TablestoreThroughput, tablestore),
    )
    converter = providers.Singleton(PyAvConverter)
    recognizer = providers.Selector(
        config.whisper_backend,
        local=providers.Singleton(
            WhisperRecognizer,
            config.whisper_model,
            models_dir=providers.Callable(
                builders.models_dir, config.data_dir, config.whisper_models_dir
            ),
        ),
        **{
            "qwen-asr": providers.Singleton(
                builders.open_dashscope_recognizer,
                config.dashscope_api_key,
                config.dashscope_base_url,
                config.asr_model,
                closing,
                audio_format=config.asr_audio_format,
                converter=converter,
            )
        },
    )
    local_formatter = providers.Singleton(ParagraphFormatter)
    qwen = providers.Singleton(
        builders.open_qwen,
        config.dashscope_api_key,
        config.dashscope_base_url,
        config.llm_model,
        closing,
    )
    gemini = providers.Singleton(
        builders.open_gemini,
        config.google_api_key,
        config.gemini_base_url,
        config.gemini_model,
        closing,
    )
    gemini_fallback = providers.Selector(
        config.gemini_fallback, on=providers.List(gemini), off=providers.List()
    )
    llm_formatters = providers.Selector(
        config.formatter_backend,
        local=providers.List(),
        qwen=providers.Callable(builders.chain, qwen, gemini_fallback),
        gemini=providers.List(gemini),
    )
    telegram_bot = providers.Singleton(
        builders.open_telegram_bot,
        config.telegram_bot_token,
        config.telegram_api_base_url,
        closing,
        limits=providers.Callable(builders.telegram_limits, settings),
    )
    chat_files = providers.Selector(
        config.channel,
        console=providers.Singleton(LocalFileSource),
        telegram=providers.Singleton(
            TelegramFileSource,
            telegram_bot,
            max_bytes=providers.Callable(builders.telegram_download_limit, settings),
        ),
    )
    # Telegram: quick notes' status messages held back (STATUS_DELAY_SECONDS); the bot's
    # handlers ask this very object for them.
    delayed_status = providers.Singleton(
        DelayedStatus,
        providers.Singleton(
            TelegramMessenger,
            telegram_bot,
            model_actions=providers.Callable(bool, llm_formatters),
            packages=providers.Callable(parse_packages, config.star_packages),
        ),
        delay_seconds=config.status_delay_seconds,
        inline_up_to_seconds=config.sync_threshold_seconds,
    )
    # Recordings uploaded through the Mini App (entrypoints/http/mini_app.py); their jobs
    # read them from here, every other job from the chat's source above.
    upload_storage = providers.Singleton(builders.open_uploads, settings)
    files = providers.Singleton(UploadedFileSource, upload_storage, chat_files)
    messenger = providers.Selector(
        config.channel,
        console=providers.Singleton(ConsoleMessenger, verbose=config.verbose),
        telegram=delayed_status,
    )
    alerts = providers.Selector(
        config.channel,
        console=providers.Singleton(LoggedAlerts),
        telegram=providers.Singleton(TelegramOwnerAlerts, telegram_bot, config.owner_id),
    )
    stars = providers.Selector(
        config.channel,
        console=providers.Singleton(NoPayments),
        telegram=providers.Singleton(TelegramStarsGateway, telegram_bot),
    )

    policy = providers.Singleton(
        TranscriptionPolicy,
        format_word_threshold=config.format_word_threshold,
        sync_threshold_seconds=config.sync_threshold_seconds,
        short_audio_seconds=config.short_audio_seconds,
        max_chunk_seconds=config.asr_chunk_seconds,
        max_audio_seconds=config.max_audio_seconds,
    )
    tuning = providers.Singleton(
        Tuning,
        policy=policy,
        asr_concurrency=config.asr_concurrency,
        trial_minutes=config.trial_minutes,
        queue_visibility_seconds=config.queue_visibility_seconds,
        packages=providers.Callable(parse_packages, config.star_packages),
        low_balance_minutes=config.low_balance_minutes,
        retry_inline_through_queue=config.retry_inline_through_queue,
        job_lease_seconds=config.job_lease_seconds,
        provider_outage_seconds=config.provider_outage_seconds,
        transcript_retention_days=config.transcript_retention_days,
        action_minutes_per_30_min=config.action_minutes_per_30_min,
        recognizer_name=config.whisper_backend,
    )
    ports = providers.Singleton(
        Ports,
        jobs=jobs,
        accounts=accounts,
        queue=queue,
        files=files,
        converter=converter,
        recognizer=recognizer,
        llm_formatters=llm_formatters,
        local_formatter=local_formatter,
        messenger=messenger,
        clock=clock,
        preferences=preferences,
        payments=payments,
        stars=stars,
        alerts=alerts,
        chats=chats,
        erasure=erasure,
        action_results=action_results,
        action_writers=llm_formatters,
        throughput=throughput,
    )
    use_cases = providers.Singleton(bootstrap, ports, tuning)


def build_container(
    settings: Settings,
    channel: Channel = Channel.CONSOLE,
    *,
    inline_everything: bool = False,
    verbose: bool = False,
) -> Container:
    """The container for one way of running the program. ``inline_everything``: the CLI,
    with no worker and no webhook to keep responsive, processes every file at once."""
    container = Container(settings=settings)
    container.config.from_dict(config_from(settings, channel, inline_everything, verbose))
    return container


def config_from(
    settings: Settings,
    channel: Channel = Channel.CONSOLE,
    inline_everything: bool = False,
    verbose: bool = False,
) -> dict[str, object]:
    """The settings as the container's configuration tree (the fields' names)."""
    tree: dict[str, object] = attrs.asdict(settings)
    tree["data_dir"] = str(settings.data_dir)
    tree["channel"] = channel.value
    tree["verbose"] = verbose
    if inline_everything:
        tree["sync_threshold_seconds"] = settings.max_audio_seconds
    tree["retry_inline_through_queue"] = not inline_everything
    # Gemini backs qwen up whenever a Google key is configured.
    tree["gemini_fallback"] = "on" if settings.google_api_key else "off"
    return tree
