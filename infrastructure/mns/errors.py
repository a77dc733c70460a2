"""Translating MNS SDK exceptions into the queue port's ``QueueError``.

Why: no SDK exception may reach the use cases, and whether a failure is worth retrying
decides what the worker does next. Network failures (timeouts, refused connections, a
reply the SDK cannot parse) and server-side overload are transient; everything else
(bad credentials, a missing queue, bad parameters) is permanent. ``MNSServerException``
carries no HTTP status, so the classification goes by MNS error code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from mns.mns_exception import (
    MNSClientNetworkException,
    MNSClientParameterException,
    MNSExceptionBase,
    MNSServerException,
)

from application.errors import QueueError
from application.ports import QueueMessage

T = TypeVar("T")

# Codes MNS documents for overload or its own faults (500, 503, throttling).
TRANSIENT_CODES = frozenset(
    {"InternalError", "InternalServerError", "ServiceUnavailable", "ServerBusy",
     "QpsLimitExceeded", "TooManyRequests", "Throttling"}
)  # fmt: skip
# What MNS answers when a message is asked for but there is none.
EMPTY_CODES = frozenset({"MessageNotExist"})
# What MNS answers for a receipt handle that is stale, expired or already used.
STALE_RECEIPT_CODES = frozenset({"ReceiptHandleError", "MessageNotExist"})


def is_transient(error: BaseException) -> bool:
    if isinstance(error, MNSServerException):
        return error.type in TRANSIENT_CODES or error.type.startswith("Throttling")
    if isinstance(error, MNSClientParameterException):
        return False
    return isinstance(error, MNSClientNetworkException | OSError)


def server_code(error: BaseException) -> str | None:
    """The MNS error code of a server error, ``None`` for anything else."""
    return error.type if isinstance(error, MNSServerException) else None


def to_queue_error(error: BaseException, what: str) -> QueueError:
    if isinstance(error, MNSExceptionBase):
        detail = f"{type(error).__name__} {error.type}: {error.message}"
        if error.req_id:
            detail += f" (request {error.req_id})"
    else:
        detail = f"{type(error).__name__}: {error}"
    return QueueError(f"MNS {what} failed: {detail}", transient=is_transient(error))


def stale_receipt(job_id: str, what: str) -> QueueError:
    return QueueError(
        f"MNS {what} failed: receipt expired for job {job_id}: the message was delivered "
        "again or acknowledged already",
        transient=False,
    )


def translated(what: str, work: Callable[[], T]) -> T:
    """Run SDK work on this thread; whatever it raises leaves as a ``QueueError``."""
    try:
        return work()
    except QueueError:
        raise
    except (MNSExceptionBase, OSError) as exc:
        raise to_queue_error(exc, what) from exc
    except Exception as exc:  # the SDK tripping over a reply: never let it through raw
        raise QueueError(f"MNS {what} failed: {type(exc).__name__}: {exc}") from exc


@contextmanager
def receipt_of(message: QueueMessage, what: str) -> Iterator[None]:
    """Turns MNS's answer to a stale receipt handle into 'receipt expired' (permanent)."""
    try:
        yield
    except MNSExceptionBase as exc:
        if server_code(exc) in STALE_RECEIPT_CODES:
            raise stale_receipt(message.job_id, what) from exc
        raise
