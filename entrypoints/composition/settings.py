"""Configuration from the environment: one validated, typed snapshot at start-up.

Every variable of the configuration interface is read here and nowhere else. Mistakes
(an unknown backend, a number that is not one, the credentials a chosen backend needs)
are all collected and reported in one message before anything starts.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from domain.catalogue import parse_packages

BACKENDS = {
    "WHISPER_BACKEND": ("local", "qwen-asr"),
    "FORMATTER_BACKEND": ("local", "qwen", "gemini"),
    "STORAGE_BACKEND": ("sqlite", "tablestore"),
    "QUEUE_BACKEND": ("sqlite", "mns"),
}
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
    ("STORAGE_BACKEND", "tablestore"): (
        "TABLESTORE_ENDPOINT",
        "TABLESTORE_INSTANCE",
        "ALIBABA_ACCESS_KEY_ID",
        "ALIBABA_ACCESS_KEY_SECRET",
    ),
    ("QUEUE_BACKEND", "mns"): (
        "MNS_ENDPOINT",
        "ALIBABA_ACCESS_KEY_ID",
        "ALIBABA_ACCESS_KEY_SECRET",
    ),
}
TEXT_DEFAULTS = {
    "VOICESCRIBE_DATA_DIR": "./var",
    "DASHSCOPE_BASE_URL": "https://dashscope-intl.aliyuncs.com/api/v1",
    "ASR_MODEL": "qwen3-asr-flash",
    "ASR_AUDIO_FORMAT": "opus",  # what qwen3-asr-flash is sent: opus, or mp3 (the reference)
    "LLM_MODEL": "qwen-turbo",
    "GEMINI_MODEL": "gemini-2.5-flash",
    "GEMINI_BASE_URL": "",
    "WHISPER_MODEL": "base",
    "MNS_QUEUE": "voicescribe-jobs",
    "TELEGRAM_API_BASE_URL": "https://api.telegram.org",
    "STAR_PACKAGES": "10:5:3,50:35,200:119,1000:549,3000:1399,8888:4444",
}
ASR_AUDIO_FORMATS = ("opus", "mp3")
SECRETS = (
    "DASHSCOPE_API_KEY",
    "GOOGLE_API_KEY",
    "ALIBABA_ACCESS_KEY_ID",
    "ALIBABA_ACCESS_KEY_SECRET",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
)
# WHISPER_MODELS_DIR: where the packaged model is assembled; empty = VOICESCRIBE_DATA_DIR/models.
OPTIONAL_TEXT = (
    "TABLESTORE_ENDPOINT",
    "TABLESTORE_INSTANCE",
    "MNS_ENDPOINT",
    "WHISPER_MODELS_DIR",
    *SECRETS,
)
NUMBERS: dict[str, tuple[type, float, float]] = {
    # name: (type, default, smallest allowed)
    "FORMAT_WORD_THRESHOLD": (int, 150, 0),
    "SYNC_THRESHOLD_SECONDS": (float, 60.0, 0),
    "SHORT_AUDIO_SECONDS": (float, 10.0, 0),
    "ASR_CHUNK_SECONDS": (float, 150.0, 5),
    "ASR_CONCURRENCY": (int, 4, 1),
    "TRIAL_MINUTES": (int, 15, 0),
    "MAX_AUDIO_SECONDS": (float, 3 * 3600.0, 1),
    "QUEUE_VISIBILITY_SECONDS": (float, 120.0, 10),
    "OWNER_ID": (int, 0, 0),
    "RATE_LIMIT_PER_MINUTE": (int, 10, 1),
    "WORKER_CONCURRENCY": (int, 2, 1),
    "WEBHOOK_CONCURRENCY": (int, 32, 1),
    "LOW_BALANCE_MINUTES": (int, 5, 0),
    "JOB_LEASE_SECONDS": (float, 600.0, 10),
    "WORKER_GRACE_SECONDS": (float, 30.0, 0),
}


class ConfigurationError(Exception):
    """Start-up refused: the message lists every problem found."""


@attrs.frozen
class Settings:
    profile: str
    backends: Mapping[str, str]
    text: Mapping[str, str]
    numbers: Mapping[str, float]

    @property
    def data_dir(self) -> Path:
        return Path(self.text["VOICESCRIBE_DATA_DIR"]).expanduser()

    def value(self, name: str) -> Any:
        for table in (self.backends, self.text, self.numbers):
            if name in table:
                return table[name]
        raise KeyError(name)

    def masked(self) -> dict[str, object]:
        """Everything resolved, in a stable order, secrets shown only by their last chars."""
        shown: dict[str, object] = {"VOICESCRIBE_PROFILE": self.profile}
        for name in sorted({*self.backends, *self.text, *self.numbers}):
            value = self.value(name)
            shown[name] = _mask(value) if name in SECRETS and value else value
        return shown


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)
    problems: list[str] = []
    profile = env.get("VOICESCRIBE_PROFILE", "local").strip() or "local"
    if profile not in PROFILES:
        problems.append(f"VOICESCRIBE_PROFILE={profile!r} is unknown; use one of: local, alibaba")
        profile = "local"
    backends = {}
    for name, allowed in BACKENDS.items():
        value = env.get(name, "").strip() or PROFILES[profile][name]
        if value not in allowed:
            problems.append(f"{name}={value!r} is unknown; use one of: {', '.join(allowed)}")
        backends[name] = value
    text = {name: env.get(name, "").strip() or default for name, default in TEXT_DEFAULTS.items()}
    text.update({name: env.get(name, "").strip() for name in OPTIONAL_TEXT})
    numbers = {name: _number(env, name, spec, problems) for name, spec in NUMBERS.items()}
    required = set(PROFILE_REQUIRES.get(profile, ()))
    for choice in backends.items():
        required.update(BACKEND_REQUIRES.get(choice, ()))
    if text["ASR_AUDIO_FORMAT"] not in ASR_AUDIO_FORMATS:
        problems.append(
            f"ASR_AUDIO_FORMAT={text['ASR_AUDIO_FORMAT']!r} is unknown; use one of: "
            + ", ".join(ASR_AUDIO_FORMATS)
        )
    try:
        parse_packages(text["STAR_PACKAGES"])
    except ValueError as error:
        problems.append(f"STAR_PACKAGES: {error}")
    missing = sorted(name for name in required if not text.get(name))
    if missing:
        problems.append("missing environment variables: " + ", ".join(missing))
    if problems:
        raise ConfigurationError("configuration error: " + "; ".join(problems))
    return Settings(profile, backends, text, numbers)


def _number(
    env: Mapping[str, str], name: str, spec: tuple[type, float, float], problems: list[str]
) -> float:
    kind, default, smallest = spec
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        problems.append(f"{name}={raw!r} is not {'a whole number' if kind is int else 'a number'}")
        return default
    if not math.isfinite(value) or value < smallest:
        problems.append(f"{name}={raw} is below the minimum {smallest:g}")
    return value


def _mask(secret: object) -> str:
    text = str(secret)
    return "****" + text[-4:] if len(text) > 12 else "****"
