"""Configuration from the environment: defaults, profiles, overrides and refusals."""

from __future__ import annotations

import pytest

from entrypoints.composition.settings import PROFILES, ConfigurationError, load_settings

ALIBABA = {
    "VOICESCRIBE_PROFILE": "alibaba",
    "DASHSCOPE_API_KEY": "sk-1",
    "TELEGRAM_BOT_TOKEN": "1:abc",
    "TABLESTORE_ENDPOINT": "https://x.ots.aliyuncs.com",
    "TABLESTORE_INSTANCE": "vs",
    "MNS_ENDPOINT": "https://1.mns.aliyuncs.com",
    "ALIBABA_ACCESS_KEY_ID": "ak",
    "ALIBABA_ACCESS_KEY_SECRET": "sk",
}


def test_local_profile_needs_nothing_and_has_the_reference_defaults() -> None:
    settings = load_settings({})
    assert settings.profile == "local"
    assert {name: settings.value(name) for name in PROFILES["local"]} == {
        "WHISPER_BACKEND": "local",
        "FORMATTER_BACKEND": "local",
        "STORAGE_BACKEND": "sqlite",
        "QUEUE_BACKEND": "sqlite",
    }
    assert settings.value("FORMAT_WORD_THRESHOLD") == 150
    assert settings.value("SYNC_THRESHOLD_SECONDS") == 60
    assert settings.value("SHORT_AUDIO_SECONDS") == 10
    assert settings.value("ASR_MODEL") == "qwen3-asr-flash"
    assert settings.value("DASHSCOPE_BASE_URL") == "https://dashscope-intl.aliyuncs.com/api/v1"
    assert str(settings.data_dir) == "var"


def test_alibaba_profile_selects_the_cloud_and_per_port_overrides_win() -> None:
    settings = load_settings({**ALIBABA, "QUEUE_BACKEND": "sqlite"})
    assert settings.whisper_backend == "qwen-asr"
    assert settings.formatter_backend == "qwen"
    assert settings.storage_backend == "tablestore"
    assert settings.queue_backend == "sqlite"


def test_alibaba_profile_lists_every_missing_variable_at_once() -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings({"VOICESCRIBE_PROFILE": "alibaba"})
    for name in (
        "DASHSCOPE_API_KEY",
        "TELEGRAM_BOT_TOKEN",
        "TABLESTORE_ENDPOINT",
        "TABLESTORE_INSTANCE",
        "MNS_ENDPOINT",
    ):
        assert name in str(refused.value)


def test_a_backend_needs_its_credentials_even_on_the_local_profile() -> None:
    with pytest.raises(ConfigurationError, match="GOOGLE_API_KEY"):
        load_settings({"FORMATTER_BACKEND": "gemini"})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WHISPER_BACKEND": "whisperx"}, "use one of: local, qwen-asr"),
        ({"VOICESCRIBE_PROFILE": "aws"}, "use one of: local, alibaba"),
        ({"ASR_CONCURRENCY": "four"}, "ASR_CONCURRENCY='four' is not a whole number"),
        ({"SYNC_THRESHOLD_SECONDS": "nan"}, "below the minimum"),
        ({"ASR_CONCURRENCY": "0"}, "below the minimum 1"),
    ],
)
def test_mistakes_are_refused_with_a_message_naming_them(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_settings(env)


def test_several_mistakes_are_reported_together() -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings({"QUEUE_BACKEND": "kafka", "TRIAL_MINUTES": "-1"})
    assert "QUEUE_BACKEND" in str(refused.value) and "TRIAL_MINUTES" in str(refused.value)


def test_secrets_are_masked() -> None:
    shown = load_settings({**ALIBABA, "DASHSCOPE_API_KEY": "sk-0123456789abcdef"}).masked()
    assert shown["DASHSCOPE_API_KEY"] == "****cdef"
    assert shown["ALIBABA_ACCESS_KEY_SECRET"] == "****"
    assert shown["TABLESTORE_INSTANCE"] == "vs"


def test_the_alibaba_profile_with_the_mini_app_needs_oss() -> None:
    from entrypoints.composition.settings import ConfigurationError, load_settings

    cloud = {
        "VOICESCRIBE_PROFILE": "alibaba",
        "DASHSCOPE_API_KEY": "k",
        "TELEGRAM_BOT_TOKEN": "1:x",
        "TABLESTORE_ENDPOINT": "https://t",
        "TABLESTORE_INSTANCE": "i",
        "MNS_ENDPOINT": "https://m",
        "ALIBABA_ACCESS_KEY_ID": "id",
        "ALIBABA_ACCESS_KEY_SECRET": "secret",
    }
    load_settings(cloud)  # no Mini App: no OSS needed
    with pytest.raises(ConfigurationError, match="OSS_ENDPOINT, OSS_BUCKET"):
        load_settings({**cloud, "WEBAPP_URL": "https://bot.example/app"})
    oss = {"OSS_ENDPOINT": "https://oss-eu-central-1.aliyuncs.com", "OSS_BUCKET": "b"}
    assert load_settings({**cloud, "WEBAPP_URL": "https://x/app", **oss}).oss_bucket == "b"
