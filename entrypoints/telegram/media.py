"""Which Telegram messages carry audio, translated into an ``AudioSource``.

Pure and total: any message, however malformed, gives a source or ``None``, never an
exception; hypothesis fuzzes it with random updates.
"""

from __future__ import annotations

import warnings

from telegram import Message

from domain.jobs import AudioSource, MediaKind
from domain.uploads import is_recording


def audio_source(message: Message) -> AudioSource | None:
    """The audio the message carries, or None when it carries none we accept."""
    candidates = (
        (MediaKind.VOICE, message.voice),
        (MediaKind.AUDIO, message.audio),
        (MediaKind.VIDEO, message.video),
        (MediaKind.VIDEO_NOTE, message.video_note),
    )
    for kind, media in candidates:
        if media is not None and _fetchable(media.file_id, media.file_unique_id):
            return AudioSource(
                kind=kind,
                file_id=media.file_id,
                file_unique_id=media.file_unique_id,
                duration_seconds=_seconds(_duration(media)),
                file_size=media.file_size,
                mime_type=getattr(media, "mime_type", None),
                file_name=getattr(media, "file_name", None),
            )
    document = message.document
    if (
        document is not None
        and _fetchable(document.file_id, document.file_unique_id)
        and is_audio_or_video(document.mime_type, document.file_name)
    ):
        return AudioSource(
            kind=MediaKind.DOCUMENT,
            file_id=document.file_id,
            file_unique_id=document.file_unique_id,
            file_size=document.file_size,
            mime_type=document.mime_type,
            file_name=document.file_name,
        )
    return None


def is_audio_or_video(mime_type: object, file_name: object) -> bool:
    """By MIME type, else by extension; fields of any other type mean "no"."""
    return is_recording(mime_type, file_name)


def _fetchable(file_id: object, file_unique_id: object) -> bool:
    return isinstance(file_id, str) and bool(file_id) and isinstance(file_unique_id, str)


def _duration(media: object) -> object:
    with warnings.catch_warnings():  # PTB 22 deprecates int durations in favour of timedelta
        warnings.simplefilter("ignore")
        return getattr(media, "duration", None)


def _seconds(duration: object) -> float | None:
    """Telegram's duration as seconds; 0 or nonsense means unknown (the audio is probed)."""
    seconds = getattr(duration, "total_seconds", None)
    value = seconds() if callable(seconds) else duration
    if isinstance(value, int | float) and 0 < value < 10**7:
        return float(value)
    return None
