"""``privacy_facts``: what ``/privacy`` says, derived from the settings in force.

Why this exists: the providers that see a user's audio or text, and how long transcripts
are kept, follow from the same settings that select the adapters (``container.py``), so
they are read from those settings here, in one place, and never written by hand.
Tablestore's job tables expire rows after 7 days (``JOB_TTL_SECONDS``) whatever the
retention says, so there transcripts are kept at most that long.
"""

from __future__ import annotations

from application.privacy import PrivacyFacts, Provider, Storage
from entrypoints.composition.settings import Settings
from infrastructure.tablestore.schema import JOB_TTL_SECONDS

TABLESTORE_JOB_TTL_DAYS = JOB_TTL_SECONDS // (24 * 3600)


def privacy_facts(settings: Settings) -> PrivacyFacts:
    audio_to = Provider.DASHSCOPE if settings.whisper_backend == "qwen-asr" else None
    text_to: tuple[Provider, ...] = ()
    if settings.formatter_backend == "qwen":
        fallback = (Provider.GEMINI,) if settings.google_api_key else ()
        text_to = (Provider.DASHSCOPE, *fallback)
    elif settings.formatter_backend == "gemini":
        text_to = (Provider.GEMINI,)
    storage = Storage.TABLESTORE if settings.storage_backend == "tablestore" else Storage.LOCAL
    days: int | None = settings.transcript_retention_days or None
    if storage is Storage.TABLESTORE:
        days = TABLESTORE_JOB_TTL_DAYS if days is None else min(days, TABLESTORE_JOB_TTL_DAYS)
    return PrivacyFacts(
        audio_to=audio_to,
        text_to=text_to,
        format_from_words=settings.format_word_threshold,
        storage=storage,
        transcripts_kept_days=days,
    )
