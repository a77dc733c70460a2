"""Wiring the use cases to a set of ports: the one place handlers are constructed.

The DI container (entrypoints) builds the adapters and calls ``bootstrap``; tests call it
with in-memory fakes, so both run exactly the same handler graph.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import attrs

from application.bus import MessageBus, Outbox
from application.commands import (
    AcceptVoiceNote,
    ApproveCheckout,
    BuyMinutes,
    ChangeChatSettings,
    CompletePayment,
    FlushStuckJobs,
    ForgetUserData,
    GrantMinutes,
    MigrateChat,
    ProcessJob,
    RefundPayment,
    RunTranscriptAction,
    SendStoredOutput,
    SetOutput,
    SetRecognitionLanguage,
    SetSetting,
    StopJob,
    SweepExpiredTranscripts,
    SweepStuckJobs,
    ToggleSetting,
)
from application.formatting import FormattingChain
from application.handlers.accept_voice import AcceptVoiceHandler
from application.handlers.alerts import OwnerAlerting
from application.handlers.billing import Billing
from application.handlers.chat_settings import ChatSettings
from application.handlers.chats import GroupChats
from application.handlers.flush import StuckJobFlush
from application.handlers.forget import ForgetUser
from application.handlers.preferences import Preferences
from application.handlers.process_job import ProcessJobHandler
from application.handlers.retention import TranscriptRetention
from application.handlers.stop_job import StopJobHandler
from application.handlers.stored_outputs import StoredOutputs
from application.handlers.sweeper import StuckJobSweeper
from application.handlers.transcript_actions import TranscriptActions
from application.minutes import MinutesBook
from application.ports import (
    AccountRepository,
    ActionResultRepository,
    ActionWriter,
    AudioConverter,
    ChatRepository,
    Clock,
    FileSource,
    JobQueue,
    JobRepository,
    Messenger,
    OwnerAlerts,
    PaymentRepository,
    PreferencesRepository,
    SpeechRecognizer,
    StarsGateway,
    TextFormatter,
    UserDataEraser,
)
from application.queue_consumer import QueueConsumer
from application.recognition import ChunkedRecognition
from application.stop_signals import StopSignals
from application.throughput import RememberedThroughput, ThroughputBook, ThroughputRecords
from application.views import Reports
from domain.catalogue import DEFAULT_PACKAGES, Package
from domain.events import Event, JobFailed
from domain.policies import TranscriptionPolicy
from domain.rate_limit import RateLimit
from domain.transcript_actions import DEFAULT_ACTION_MINUTES_PER_30_MIN

log = logging.getLogger("voicescribe.events")


@attrs.frozen
class Ports:
    jobs: JobRepository
    accounts: AccountRepository
    queue: JobQueue
    files: FileSource
    converter: AudioConverter
    recognizer: SpeechRecognizer
    llm_formatters: Sequence[TextFormatter]
    local_formatter: TextFormatter
    messenger: Messenger
    clock: Clock
    preferences: PreferencesRepository
    payments: PaymentRepository
    stars: StarsGateway
    alerts: OwnerAlerts
    chats: ChatRepository
    erasure: UserDataEraser
    # Actions on delivered transcripts (summary, action items, translation): none offered
    # without a store for their results; only the offline summary without writers.
    action_results: ActionResultRepository | None = None
    action_writers: Sequence[ActionWriter] = ()
    # The recognizers' learned throughput (the ETA); in memory unless a store keeps it.
    throughput: ThroughputRecords = attrs.Factory(RememberedThroughput)


@attrs.frozen
class Tuning:
    policy: TranscriptionPolicy = attrs.Factory(TranscriptionPolicy)
    asr_concurrency: int = 4
    trial_minutes: int = 15
    max_attempts: int = 3
    queue_visibility_seconds: float = 120.0
    packages: Sequence[Package] = DEFAULT_PACKAGES
    low_balance_minutes: int = 5
    retry_inline_through_queue: bool = True
    job_lease_seconds: float = 60.0
    lease_renewal_seconds: float | None = None  # None: a third of the lease
    provider_outage_seconds: float = 1800.0
    conversion_concurrency: int | None = None  # None: one conversion per available core
    owner_alerts: RateLimit = attrs.Factory(lambda: RateLimit(5, 600.0))
    transcript_retention_days: int = 30  # 0: kept forever
    action_minutes_per_30_min: int = DEFAULT_ACTION_MINUTES_PER_30_MIN
    recognizer_name: str = "asr"  # the throughput (ETA) is learned under this name
    stop_poll_seconds: float = 2.0  # how often a running job's worker looks for a Stop


@attrs.frozen
class UseCases:
    """What the entrypoints call: commands through the bus, queries through the views."""

    bus: MessageBus
    consumer: QueueConsumer
    minutes: MinutesBook
    preferences: Preferences
    billing: Billing
    reports: Reports
    chats: GroupChats
    chat_settings: ChatSettings
    actions: TranscriptActions | None = None  # None: no store for action results


async def log_event(event: Event) -> None:
    log.info("%s %s", type(event).__name__, attrs.asdict(event))


def stale_after_seconds(tuning: Tuning) -> float:
    """How long a job may sit untouched with no live claim before it is taken for stuck
    (swept, or resumed by a replay): its lease plus one visibility timeout."""
    return tuning.job_lease_seconds + tuning.queue_visibility_seconds


def bootstrap(ports: Ports, tuning: Tuning) -> UseCases:
    outbox = Outbox()
    minutes = MinutesBook(ports.accounts, outbox, tuning.trial_minutes)
    recognition = ChunkedRecognition(
        ports.converter,
        ports.recognizer,
        short_audio_seconds=tuning.policy.short_audio_seconds,
        max_chunk_seconds=tuning.policy.max_chunk_seconds,
        concurrency=tuning.asr_concurrency,
        conversion_concurrency=tuning.conversion_concurrency,
    )
    formatting = FormattingChain(
        ports.llm_formatters, ports.local_formatter, tuning.policy.format_word_threshold
    )
    stop_signals = StopSignals()
    process = ProcessJobHandler(
        jobs=ports.jobs,
        files=ports.files,
        converter=ports.converter,
        recognition=recognition,
        formatting=formatting,
        messenger=ports.messenger,
        minutes=minutes,
        outbox=outbox,
        clock=ports.clock,
        max_attempts=tuning.max_attempts,
        max_audio_seconds=tuning.policy.max_audio_seconds,
        lease_seconds=tuning.job_lease_seconds,
        lease_renewal_seconds=tuning.lease_renewal_seconds,
        provider_outage_seconds=tuning.provider_outage_seconds,
        stop_signals=stop_signals,
        stop_poll_seconds=tuning.stop_poll_seconds,
        throughput=ThroughputBook(ports.throughput, tuning.recognizer_name),
    )
    stop = StopJobHandler(
        jobs=ports.jobs,
        minutes=minutes,
        messenger=ports.messenger,
        outbox=outbox,
        clock=ports.clock,
        signals=stop_signals,
    )
    accept = AcceptVoiceHandler(
        jobs=ports.jobs,
        queue=ports.queue,
        files=ports.files,
        converter=ports.converter,
        minutes=minutes,
        process=process,
        messenger=ports.messenger,
        outbox=outbox,
        clock=ports.clock,
        policy=tuning.policy,
        low_balance_minutes=tuning.low_balance_minutes,
        retry_inline_through_queue=tuning.retry_inline_through_queue,
        stale_after_seconds=stale_after_seconds(tuning),
        recognizer_gives_times=ports.recognizer.gives_times,
    )
    preferences = Preferences(ports.preferences)
    chat_settings = ChatSettings(ports.chats)
    billing = Billing(
        packages=tuning.packages,
        minutes=minutes,
        payments=ports.payments,
        gateway=ports.stars,
        clock=ports.clock,
        alerts=ports.alerts,
    )
    flush = StuckJobFlush(jobs=ports.jobs, process=process, clock=ports.clock)
    sweeper = StuckJobSweeper(
        jobs=ports.jobs,
        queue=ports.queue,
        process=process,
        clock=ports.clock,
        max_attempts=tuning.max_attempts,
        lease_seconds=tuning.job_lease_seconds,
    )
    alerting = OwnerAlerting(ports.alerts, ports.clock, tuning.owner_alerts)
    reports = Reports(
        jobs=ports.jobs,
        accounts=ports.accounts,
        payments=ports.payments,
        minutes=minutes,
        clock=ports.clock,
    )
    actions = None
    if ports.action_results is not None:
        actions = TranscriptActions(
            jobs=ports.jobs,
            results=ports.action_results,
            writers=ports.action_writers,
            minutes=minutes,
            clock=ports.clock,
            minutes_per_30_min=tuning.action_minutes_per_30_min,
        )
    bus = MessageBus(
        outbox,
        command_handlers={
            AcceptVoiceNote: accept,
            ProcessJob: process,
            StopJob: stop,
            ToggleSetting: preferences.toggle,
            SetSetting: preferences.set,
            SetRecognitionLanguage: preferences.set_language,
            SetOutput: preferences.set_output,
            SendStoredOutput: StoredOutputs(ports.jobs, ports.messenger),
            ChangeChatSettings: chat_settings.change,
            MigrateChat: chat_settings.migrate,
            BuyMinutes: billing.buy,
            ApproveCheckout: billing.approve,
            CompletePayment: billing.complete,
            GrantMinutes: billing.grant,
            RefundPayment: billing.refund,
            FlushStuckJobs: flush,
            SweepStuckJobs: sweeper,
            ForgetUserData: ForgetUser(
                jobs=ports.jobs, accounts=ports.accounts, eraser=ports.erasure
            ),
            SweepExpiredTranscripts: TranscriptRetention(
                eraser=ports.erasure,
                clock=ports.clock,
                retention_days=tuning.transcript_retention_days,
            ),
            **({RunTranscriptAction: actions} if actions is not None else {}),
        },
        event_handlers={Event: [log_event], JobFailed: [alerting.on_job_failed]},
    )
    consumer = QueueConsumer(
        ports.queue, bus, tuning.queue_visibility_seconds, stale_after_seconds(tuning)
    )
    return UseCases(
        bus=bus,
        consumer=consumer,
        minutes=minutes,
        preferences=preferences,
        billing=billing,
        reports=reports,
        chats=GroupChats(
            chats=ports.chats, minutes=minutes, jobs=ports.jobs, messenger=ports.messenger
        ),
        chat_settings=chat_settings,
        actions=actions,
    )
