"""The Alibaba Cloud credentials Tablestore and MNS requests are signed with, kept current.

Why this exists: on Function Compute the natural credentials are the function role's
temporary STS ones (an ``STS.`` key id, its secret and a security token), which expire and
are replaced while an instance lives on. Both SDKs ask a credentials provider for the keys
on every request, so one ``CloudCredentials`` per process holds the current key, the FC
handlers ``rotate`` it from each invocation's context, and every client built on it (one
per thread for MNS, one per process for Tablestore) signs its next request with the new
key. A RAM user's static keys are the same thing without a token, never rotated.
"""

from __future__ import annotations

import threading

import attrs


@attrs.frozen(repr=False)
class AccessKey:
    """One set of keys; ``security_token`` is empty for a RAM user's static keys."""

    key_id: str
    secret: str
    security_token: str = ""

    @property
    def complete(self) -> bool:
        return bool(self.key_id and self.secret)

    def __repr__(self) -> str:  # never the secret or the token, not even in a traceback
        kind = "sts" if self.security_token else "static"
        return f"AccessKey({kind}, key_id=...{self.key_id[-4:]})"


class CloudCredentials:
    """The process's current ``AccessKey``; safe to read and rotate from any thread."""

    def __init__(self, initial: AccessKey) -> None:
        self._current = initial
        self._lock = threading.Lock()

    def current(self) -> AccessKey:
        with self._lock:
            return self._current

    def rotate(self, key: AccessKey) -> bool:
        """Sign the next requests with ``key``; an incomplete key is ignored (a context
        without credentials). Returns whether anything changed."""
        if not key.complete:
            return False
        with self._lock:
            changed = key != self._current
            self._current = key
        return changed
