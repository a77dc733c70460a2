"""Configuration from the environment: one validated, typed, frozen snapshot at start-up.

Every variable of the configuration interface is declared here, once, as a typed field of
``Settings`` that names its environment variable, its default and its bounds; it is read
here and nowhere else. Mistakes (an unknown backend, a number that is not one, the
credentials a chosen backend needs) are all collected and reported in one message before
anything starts. Adding a setting means: a field here, the provider that uses it, and a
line in the README's table.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from domain.catalogue import parse_packages

PROFILES = {
    "local": {
        "WHISPER_BACKEND": "local",
        "FORMATTER_BACKEND": "local",
        "STORAGE_BACKEND": "sqlite",
        "QUEUE_BACKEND": "sqlite",
    },
    "alibaba": {
        "WHISPER_BACKEND": "qwen-asr",
        "FORMATTER_BACKEND": "qwen",
        "STORAGE_BACKEND": "tablestore",
        "QUEUE_BACKEND": "mns",
    },
}
PROFILE_REQUIRES = {
    "alibaba": (
        "DASHSCOPE_API_KEY",
        "TELEGRAM_BOT_TOKEN",
        "TABLESTORE_ENDPOINT",
        "TABLESTORE_INSTANCE",
        "MNS_ENDPOINT",
    ),
}
BACKEND_REQUIRES = {
    ("WHISPER_BACKEND", "qwen-asr"): ("DASHSCOPE_API_KEY",),
    ("FORMATTER_BACKEND", "qwen"): ("DASHSCOPE_API_KEY",),
    ("FORMATTER_BACKEND", "gemini"): ("GOOGLE_API_KEY",),
    ("STORAGE_BACKEND", "tablestore"): ("TABLESTORE_ENDPOINT", "TABLESTORE_INSTANCE"),
    ("QUEUE_BACKEND", "mns"): ("MNS_ENDPOINT",),
}
# The Mini App's uploads on the cloud profile (WEBAPP_URL set) go to OSS.
OSS_FOR_UPLOADS = ("OSS_ENDPOINT", "OSS_BUCKET")
# Tablestore and MNS sign with ALIBABA_ACCESS_KEY_ID/SECRET (a RAM user's keys, or STS
# keys with ALIBABA_SECURITY_TOKEN) or, when those are not set, with the function role's
# temporary credentials Function Compute puts in ALIBABA_CLOUD_*.
ALIBABA_KEY_BACKENDS = (("STORAGE_BACKEND", "tablestore"), ("QUEUE_BACKEND", "mns"))

PUBLIC_BOT_API = "https://api.telegram.org"
MEGABYTE = 1024 * 1024

_ENV = "env"
_KIND = "kind"
_CHOICES = "choices"
_MINIMUM = "minimum"
_SECRET = "secret"


def _backend(env: str, *choices: str) -> Any:
    """A port's adapter; its default comes from the profile."""
    return attrs.field(default="", metadata={_ENV: env, _KIND: "backend", _CHOICES: choices})


def _text(env: str, default: str = "", *choices: str, secret: bool = False) -> Any:
    metadata = {_ENV: env, _KIND: "text", _CHOICES: choices, _SECRET: secret}
    return attrs.field(default=default, metadata=metadata)


def _number(env: str, default: float, minimum: float) -> Any:
    kind = "int" if isinstance(default, int) else "float"
    return attrs.field(default=default, metadata={_ENV: env, _KIND: kind, _MINIMUM: minimum})


class ConfigurationError(Exception):
    """Start-up refused: the message lists every problem found."""


@attrs.frozen
class Settings:
    """Every setting, typed. Built by ``load_settings``; tests may build one directly."""

    profile: str = _text("VOICESCRIBE_PROFILE", "local", *PROFILES)
    whisper_backend: str = _backend("WHISPER_BACKEND", "local", "qwen-asr")
    formatter_backend: str = _backend("FORMATTER_BACKEND", "local", "qwen", "gemini")
    storage_backend: str = _backend("STORAGE_BACKEND", "sqlite", "tablestore")
    queue_backend: str = _backend("QUEUE_BACKEND", "sqlite", "mns")

    voicescribe_data_dir: str = _text("VOICESCRIBE_DATA_DIR", "./var")
    dashscope_base_url: str = _text(
        "DASHSCOPE_BASE_URL", "https://dashscope-intl.aliyuncs.com/api/v1"
    )
    asr_model: str = _text("ASR_MODEL", "qwen3-asr-flash")
    # What qwen3-asr-flash is sent: opus, or mp3 (the reference bot's format).
    asr_audio_format: str = _text("ASR_AUDIO_FORMAT", "opus", "opus", "mp3")
    llm_model: str = _text("LLM_MODEL", "qwen-turbo")
    gemini_model: str = _text("GEMINI_MODEL", "gemini-2.5-flash")
    gemini_base_url: str = _text("GEMINI_BASE_URL")
    whisper_model: str = _text("WHISPER_MODEL", "base")
    # Where the packaged model is assembled; empty = VOICESCRIBE_DATA_DIR/models.
    whisper_models_dir: str = _text("WHISPER_MODELS_DIR")
    mns_queue: str = _text("MNS_QUEUE", "voicescribe-jobs")
    telegram_api_base_url: str = _text("TELEGRAM_API_BASE_URL", "https://api.telegram.org")
    star_packages: str = _text("STAR_PACKAGES", "10:5:3,50:35,200:119,1000:549,3000:1399,8888:4444")
    tablestore_endpoint: str = _text("TABLESTORE_ENDPOINT")
    tablestore_instance: str = _text("TABLESTORE_INSTANCE")
    mns_endpoint: str = _text("MNS_ENDPOINT")

    dashscope_api_key: str = _text("DASHSCOPE_API_KEY", secret=True)
    google_api_key: str = _text("GOOGLE_API_KEY", secret=True)
    alibaba_access_key_id: str = _text("ALIBABA_ACCESS_KEY_ID", secret=True)
    alibaba_access_key_secret: str = _text("ALIBABA_ACCESS_KEY_SECRET", secret=True)
    alibaba_security_token: str = _text("ALIBABA_SECURITY_TOKEN", secret=True)
    # Set by Function Compute for a function with a role; used when the keys above are not.
    alibaba_cloud_access_key_id: str = _text("ALIBABA_CLOUD_ACCESS_KEY_ID", secret=True)
    alibaba_cloud_access_key_secret: str = _text("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret=True)
    alibaba_cloud_security_token: str = _text("ALIBABA_CLOUD_SECURITY_TOKEN", secret=True)
    telegram_bot_token: str = _text("TELEGRAM_BOT_TOKEN", secret=True)
    telegram_webhook_secret: str = _text("TELEGRAM_WEBHOOK_SECRET", secret=True)

    format_word_threshold: int = _number("FORMAT_WORD_THRESHOLD", 150, 0)
    sync_threshold_seconds: float = _number("SYNC_THRESHOLD_SECONDS", 60.0, 0)
    # A note processed inline gets a status message only if its answer takes longer.
    status_delay_seconds: float = _number("STATUS_DELAY_SECONDS", 1.5, 0)
    short_audio_seconds: float = _number("SHORT_AUDIO_SECONDS", 10.0, 0)
    asr_chunk_seconds: float = _number("ASR_CHUNK_SECONDS", 150.0, 5)
    asr_concurrency: int = _number("ASR_CONCURRENCY", 4, 1)
    trial_minutes: int = _number("TRIAL_MINUTES", 15, 0)
    max_audio_seconds: float = _number("MAX_AUDIO_SECONDS", 3 * 3600.0, 1)
    queue_visibility_seconds: float = _number("QUEUE_VISIBILITY_SECONDS", 120.0, 10)
    owner_id: int = _number("OWNER_ID", 0, 0)
    rate_limit_per_minute: int = _number("RATE_LIMIT_PER_MINUTE", 10, 1)
    worker_concurrency: int = _number("WORKER_CONCURRENCY", 2, 1)
    webhook_concurrency: int = _number("WEBHOOK_CONCURRENCY", 32, 1)
    low_balance_minutes: int = _number("LOW_BALANCE_MINUTES", 5, 0)
    # An action on a transcript (summary, action items, translation) costs this many
    # minutes per started 30 minutes of its audio.
    action_minutes_per_30_min: int = _number("ACTION_MINUTES_PER_30_MIN", 1, 1)
    # A running job's claim, renewed every third of it: a dead worker's job is retaken
    # within about this long.
    job_lease_seconds: float = _number("JOB_LEASE_SECONDS", 60.0, 10)
    # How long a job waits out its recognizer being unavailable before it fails.
    provider_outage_seconds: float = _number("PROVIDER_OUTAGE_SECONDS", 1800.0, 0)
    worker_grace_seconds: float = _number("WORKER_GRACE_SECONDS", 30.0, 0)
    # An acknowledged update's claim, renewed by the live instance: a dead instance's
    # updates are taken over this long after it died (application/inbox.py).
    update_lease_seconds: float = _number("UPDATE_LEASE_SECONDS", 30.0, 3)
    # Handlings of an update that raised before it is recorded failed and the owner told.
    update_max_attempts: int = _number("UPDATE_MAX_ATTEMPTS", 5, 1)
    # /healthz answers 503, and the owner is told, when a queued job has been waiting
    # for a worker longer than this (SQLite: MNS tells no ages).
    queue_alert_seconds: float = _number("QUEUE_ALERT_SECONDS", 900.0, 1)
    # Bot API throttling and retries (infrastructure/telegram/rate_limiter.py); 0 = no bucket.
    telegram_messages_per_second: float = _number("TELEGRAM_MESSAGES_PER_SECOND", 30.0, 0)
    telegram_group_messages_per_minute: float = _number(
        "TELEGRAM_GROUP_MESSAGES_PER_MINUTE", 20.0, 0
    )
    telegram_max_retry_seconds: float = _number("TELEGRAM_MAX_RETRY_SECONDS", 30.0, 0)
    telegram_network_retries: int = _number("TELEGRAM_NETWORK_RETRIES", 2, 0)
    # Days a finished job's transcript is kept before the sweep erases it; 0 = forever.
    transcript_retention_days: int = _number("TRANSCRIPT_RETENTION_DAYS", 30, 0)
    # Largest file the bot downloads from a chat; 0 = what the Bot API serves: 20 MB from
    # the public one, 2000 MB from a local Bot API server (TELEGRAM_API_BASE_URL).
    telegram_download_limit_mb: int = _number("TELEGRAM_DOWNLOAD_LIMIT_MB", 0, 0)
    # The Mini App (entrypoints/http/mini_app.py): its public address, the webhook's public
    # address + /app (empty: no Mini App button), the largest upload, how old Telegram's
    # initData may be, and how long an abandoned upload is kept.
    webapp_url: str = _text("WEBAPP_URL")
    max_upload_mb: int = _number("MAX_UPLOAD_MB", 2000, 1)
    webapp_auth_max_age_seconds: float = _number("WEBAPP_AUTH_MAX_AGE_SECONDS", 86400.0, 1)
    upload_retention_hours: float = _number("UPLOAD_RETENTION_HOURS", 24.0, 0)
    # Mini App uploads in OSS (infrastructure/oss) instead of VOICESCRIBE_DATA_DIR/uploads;
    # required in the alibaba profile when WEBAPP_URL is set (Function Compute has no disk
    # that lasts).
    oss_endpoint: str = _text("OSS_ENDPOINT")
    oss_bucket: str = _text("OSS_BUCKET")

    @property
    def data_dir(self) -> Path:
        return Path(self.voicescribe_data_dir).expanduser()

    @property
    def alibaba_keys(self) -> tuple[str, str, str]:
        """Key id, secret and security token for Tablestore and MNS: the configured keys,
        else the function role's (``ALIBABA_CLOUD_*``); the token is empty for static keys."""
        if self.alibaba_access_key_id or self.alibaba_access_key_secret:
            key = self.alibaba_access_key_id, self.alibaba_access_key_secret
            return (*key, self.alibaba_security_token)
        return (
            self.alibaba_cloud_access_key_id,
            self.alibaba_cloud_access_key_secret,
            self.alibaba_cloud_security_token,
        )

    @property
    def download_limit_bytes(self) -> int:
        """TELEGRAM_DOWNLOAD_LIMIT_MB, or the Bot API's own limit when it is 0."""
        if self.telegram_download_limit_mb:
            return self.telegram_download_limit_mb * MEGABYTE
        public = self.telegram_api_base_url.rstrip("/") == PUBLIC_BOT_API
        return (20 if public else 2000) * MEGABYTE

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * MEGABYTE

    @property
    def stale_after_seconds(self) -> float:
        """How long a job may sit untouched with no live claim before a sweep takes it
        back: its lease plus one visibility timeout."""
        return self.job_lease_seconds + self.queue_visibility_seconds

    def value(self, env_name: str) -> Any:
        """A setting by its environment variable's name."""
        return getattr(self, _FIELD_OF[env_name])

    def masked(self) -> dict[str, object]:
        """Everything resolved, in a stable order, secrets shown only by their last chars."""
        shown: dict[str, object] = {"VOICESCRIBE_PROFILE": self.profile}
        for env in sorted(_FIELD_OF):
            if env == "VOICESCRIBE_PROFILE":
                continue
            value = self.value(env)
            shown[env] = _mask(value) if env in SECRETS and value else value
        return shown


_FIELDS = attrs.fields(Settings)
_FIELD_OF = {field.metadata[_ENV]: field.name for field in _FIELDS}
SECRETS = tuple(field.metadata[_ENV] for field in _FIELDS if field.metadata.get(_SECRET))
# Every variable of the configuration interface, by environment name.
VARIABLES = tuple(_FIELD_OF)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    problems: list[str] = []
    profile = env.get("VOICESCRIBE_PROFILE", "local").strip() or "local"
    if profile not in PROFILES:
        problems.append(f"VOICESCRIBE_PROFILE={profile!r} is unknown; use one of: local, alibaba")
        profile = "local"
    values: dict[str, Any] = {"profile": profile}
    for field in _FIELDS:
        name, kind = field.metadata[_ENV], field.metadata[_KIND]
        if name == "VOICESCRIBE_PROFILE":
            continue
        raw = env.get(name, "").strip()
        if kind == "backend":
            values[field.name] = _choice(name, raw or PROFILES[profile][name], field, problems)
        elif kind == "text":
            values[field.name] = _choice(name, raw or str(field.default), field, problems)
        else:
            values[field.name] = _parse_number(name, raw, field, problems)
    settings = Settings(**values)
    try:
        parse_packages(settings.star_packages)
    except ValueError as error:
        problems.append(f"STAR_PACKAGES: {error}")
    required = set(PROFILE_REQUIRES.get(profile, ()))
    for backend in PROFILES[profile]:
        required.update(BACKEND_REQUIRES.get((backend, settings.value(backend)), ()))
    missing = sorted(name for name in required if not settings.value(name))
    uses_keys = any(settings.value(backend) == name for backend, name in ALIBABA_KEY_BACKENDS)
    key_id, key_secret, _ = settings.alibaba_keys
    if uses_keys and not (key_id and key_secret):
        keys = ("ALIBABA_ACCESS_KEY_ID", "ALIBABA_ACCESS_KEY_SECRET")
        missing = sorted([*missing, *(name for name in keys if not settings.value(name))])
    if profile == "alibaba" and settings.webapp_url:
        missing += [name for name in OSS_FOR_UPLOADS if not settings.value(name)]
    if missing:
        problems.append("missing environment variables: " + ", ".join(missing))
    if problems:
        raise ConfigurationError("configuration error: " + "; ".join(problems))
    return settings


def _choice(name: str, value: str, field: attrs.Attribute[Any], problems: list[str]) -> str:
    choices = field.metadata[_CHOICES]
    if choices and value not in choices:
        problems.append(f"{name}={value!r} is unknown; use one of: {', '.join(choices)}")
    return value


def _parse_number(name: str, raw: str, field: attrs.Attribute[Any], problems: list[str]) -> float:
    default = float(field.default or 0)
    integer = field.metadata[_KIND] == "int"
    if not raw:
        return int(default) if integer else default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        problems.append(f"{name}={raw!r} is not {'a whole number' if integer else 'a number'}")
        return int(default) if integer else default
    minimum = field.metadata[_MINIMUM]
    if not math.isfinite(value) or value < minimum:
        problems.append(f"{name}={raw} is below the minimum {minimum:g}")
    return value


def _mask(secret: object) -> str:
    text = str(secret)
    return "****" + text[-4:] if len(text) > 12 else "****"
