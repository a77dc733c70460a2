"""What ``/privacy`` tells a user: what is stored, for how long, and who sees what.

Why this exists: the answer must be true of the running configuration, not of a manual.
The composition root derives these facts from the settings (which recognizer, which
formatters, which store, the retention); the entrypoints put them in words.
"""

from __future__ import annotations

from enum import StrEnum

import attrs


class Provider(StrEnum):
    """A service outside the bot's own server that may receive a user's data."""

    DASHSCOPE = "Alibaba Cloud DashScope"
    GEMINI = "Google Gemini"


class Storage(StrEnum):
    LOCAL = "local"  # SQLite on the bot's own machine
    TABLESTORE = "tablestore"  # Alibaba Cloud Tablestore


@attrs.frozen
class PrivacyFacts:
    """``audio_to``: who recognizes the audio (``None``: the bot's own server);
    ``text_to``: who may format a transcript of ``format_from_words`` words or more, in
    the order tried (empty: nobody); ``transcripts_kept_days``: ``None`` for forever."""

    audio_to: Provider | None
    text_to: tuple[Provider, ...]
    format_from_words: int
    storage: Storage
    transcripts_kept_days: int | None
