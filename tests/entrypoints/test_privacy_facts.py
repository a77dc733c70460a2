"""``/privacy`` follows the configuration (#17): who hears the audio, who reads the text,
where it is stored and for how long are derived from the settings, and said in words."""

from __future__ import annotations

import pytest

from application.privacy import PrivacyFacts, Provider, Storage
from entrypoints.composition.privacy_facts import privacy_facts
from entrypoints.composition.settings import ConfigurationError, load_settings
from entrypoints.telegram.privacy import privacy_text

ALIBABA = {
    "VOICESCRIBE_PROFILE": "alibaba",
    "DASHSCOPE_API_KEY": "sk-test",
    "TELEGRAM_BOT_TOKEN": "1:abc",
    "TABLESTORE_ENDPOINT": "https://ots.example",
    "TABLESTORE_INSTANCE": "voicescribe",
    "MNS_ENDPOINT": "https://mns.example",
    "ALIBABA_ACCESS_KEY_ID": "id",
    "ALIBABA_ACCESS_KEY_SECRET": "secret",
}


def test_the_offline_profile_sends_nothing_anywhere_and_keeps_30_days() -> None:
    facts = privacy_facts(load_settings({}))
    assert facts == PrivacyFacts(None, (), 150, Storage.LOCAL, 30)
    words = privacy_text(facts, "en")
    assert "Erased 30 days after" in words and "nobody else" in words


def test_zero_days_is_forever_on_sqlite() -> None:
    facts = privacy_facts(load_settings({"TRANSCRIPT_RETENTION_DAYS": "0"}))
    assert facts.transcripts_kept_days is None
    assert "Kept until you /forget them." in privacy_text(facts, "en")


def test_alibaba_names_dashscope_for_audio_and_gemini_only_with_a_google_key() -> None:
    without_google = privacy_facts(load_settings(ALIBABA))
    assert without_google.audio_to is Provider.DASHSCOPE
    assert without_google.text_to == (Provider.DASHSCOPE,)
    with_google = privacy_facts(load_settings({**ALIBABA, "GOOGLE_API_KEY": "g-key"}))
    assert with_google.text_to == (Provider.DASHSCOPE, Provider.GEMINI)
    words = privacy_text(with_google, "en")
    assert "Who hears your audio: Alibaba Cloud DashScope, which recognizes" in words
    assert "Alibaba Cloud DashScope, Google Gemini, to format texts of 150 words" in words
    assert "Alibaba Cloud Tablestore" in words


def test_tablestore_keeps_at_most_its_tables_ttl() -> None:
    assert privacy_facts(load_settings(ALIBABA)).transcripts_kept_days == 7
    forever = privacy_facts(load_settings({**ALIBABA, "TRANSCRIPT_RETENTION_DAYS": "0"}))
    assert forever.transcripts_kept_days == 7
    short = privacy_facts(load_settings({**ALIBABA, "TRANSCRIPT_RETENTION_DAYS": "3"}))
    assert short.transcripts_kept_days == 3


def test_gemini_alone_formats_and_local_recognizes() -> None:
    facts = privacy_facts(load_settings({"FORMATTER_BACKEND": "gemini", "GOOGLE_API_KEY": "g-key"}))
    assert (facts.audio_to, facts.text_to) == (None, (Provider.GEMINI,))
    assert "Google Gemini" in privacy_text(facts, "ru")


def test_a_negative_retention_stops_start_up() -> None:
    with pytest.raises(ConfigurationError, match="TRANSCRIPT_RETENTION_DAYS"):
        load_settings({"TRANSCRIPT_RETENTION_DAYS": "-1"})
