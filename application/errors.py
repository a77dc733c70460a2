"""The errors of each port. Adapters raise these, never their SDK's exceptions.

``transient`` says whether trying again later may succeed (timeouts, throttling, 5xx);
a permanent error fails the job at once.
"""

from __future__ import annotations


class PortError(Exception):
    transient: bool = False

    def __init__(self, message: str, *, transient: bool | None = None) -> None:
        super().__init__(message)
        if transient is not None:
            self.transient = transient


class FileUnavailable(PortError):
    """The file could not be fetched (missing, expired, network)."""


class FileTooLarge(PortError):
    """The file is bigger than the source lets us download."""

    def __init__(self, message: str, *, limit_bytes: int | None = None) -> None:
        super().__init__(message, transient=False)
        self.limit_bytes = limit_bytes


class AudioUnreadable(PortError):
    """The bytes are not audio we can decode (not media, corrupted, no audio stream)."""


class RecognitionFailed(PortError):
    """The speech recognizer did not answer with text."""


class FormattingFailed(PortError):
    """A formatter did not return usable text; the next one in the chain is tried."""


class DeliveryFailed(PortError):
    """The messenger could not send to the user."""


class StorageError(PortError):
    """A repository could not read or write."""


class ConcurrentUpdate(StorageError):
    """Another writer saved the record since it was read; re-read and try again."""

    transient = True


class QueueError(PortError):
    """The job queue could not send, receive or acknowledge."""


class EmptyAudio(AudioUnreadable):
    """The file has no bytes at all."""


class PaymentRefused(PortError):
    """The payment provider would not do what was asked (e.g. refund an unknown charge)."""


class UploadError(PortError):
    """Upload storage could not store, read or remove an upload (disk, OSS)."""
