"""Tablestore's failures as the storage port's errors: no SDK exception leaves this package.

Why this exists: a storage error must never be swallowed (the reference bot lost balances
and job states that way) and the use cases must tell "try again later" from "this will
never work". The SDK fails in three ways: ``OTSServiceError`` (the service answered with an
error code), ``OTSClientError`` (the SDK refused the call or the answer) and raw
``urllib3`` / socket errors (network, timeouts). Each becomes a ``TablestoreError`` with
``transient`` and ``retry_safe``: whether the request certainly did not run (throttling,
connection refused), so even a write may be sent again. A timeout or 5xx after a write is
ambiguous (it may have landed) and is left to the caller, who can re-read first.
"""

from __future__ import annotations

from tablestore import OTSClientError, OTSServiceError
from urllib3.exceptions import ConnectTimeoutError, HTTPError, MaxRetryError

from application.errors import StorageError

# The service refused the request before running it: waiting and sending it again is safe.
_NOT_RUN = frozenset(
    {
        "OTSServerBusy",
        "OTSNotEnoughCapacityUnit",
        "OTSCapacityUnitExhausted",
        "OTSOperationThrottled",
        "OTSRowOperationConflict",
        "OTSOperationConflict",
        "OTSTableNotReady",
        "OTSPartitionUnavailable",
    }
)
# The service may or may not have run the request.
_AMBIGUOUS = frozenset({"OTSTimeout", "OTSInternalServerError", "OTSServerUnavailable"})
CONDITION_CHECK_FAIL = "OTSConditionCheckFail"
OBJECT_ALREADY_EXIST = "OTSObjectAlreadyExist"


class TablestoreError(StorageError):
    """A failed Tablestore call; ``code`` is the service's error code when it sent one."""

    def __init__(
        self, message: str, *, transient: bool, retry_safe: bool = False, code: str | None = None
    ) -> None:
        super().__init__(message, transient=transient)
        self.retry_safe = retry_safe
        self.code = code


class ConditionFailed(TablestoreError):
    """A row condition (existence or version) did not hold, so nothing was written. The
    repositories turn it into ``ConcurrentUpdate`` or ``False``; it is never retried here."""


def translate(error: Exception, what: str) -> TablestoreError:
    """The port error for anything an SDK call raised; ``what`` names the call."""
    if isinstance(error, OTSServiceError):
        return _service_error(error, what)
    if isinstance(error, OTSClientError):
        status = error.get_http_status()
        text = f"tablestore {what}: {error.get_error_message()}"
        if status is None or 400 <= status < 500:
            return TablestoreError(text, transient=False)
        # A 5xx without a readable error, or a 2xx whose headers or checksum were wrong.
        return TablestoreError(text, transient=True)
    if isinstance(error, MaxRetryError) and isinstance(error.reason, ConnectTimeoutError):
        # Also NewConnectionError (refused, DNS): the request never left this machine.
        return TablestoreError(
            f"tablestore {what}: cannot connect: {error.reason}", transient=True, retry_safe=True
        )
    if isinstance(error, HTTPError | OSError):
        return TablestoreError(f"tablestore {what}: network: {error!r}", transient=True)
    return TablestoreError(f"tablestore {what}: unexpected {error!r}", transient=False)


def _service_error(error: OTSServiceError, what: str) -> TablestoreError:
    code, status = error.get_error_code(), error.get_http_status() or 0
    text = (
        f"tablestore {what}: {code} (HTTP {status}): {error.get_error_message()} "
        f"[request {error.get_request_id()}]"
    )
    if code == CONDITION_CHECK_FAIL:
        return ConditionFailed(text, transient=False, code=code)
    if code in _NOT_RUN or (
        code == "OTSQuotaExhausted"
        and error.get_error_message() == "Too frequent table operations."
    ):
        return TablestoreError(text, transient=True, retry_safe=True, code=code)
    if code in _AMBIGUOUS or status >= 500:
        return TablestoreError(text, transient=True, code=code)
    return TablestoreError(text, transient=False, code=code)
