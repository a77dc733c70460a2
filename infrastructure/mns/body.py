"""The job message as it travels through MNS: versioned JSON, UTF-8, then base64.

Both sides own this codec (the SDK's own base64 is switched off), so the wire body is
what the SDK would send by default, other producers using the SDK defaults interoperate,
and a body that is not ours fails here with the receipt still in hand instead of deep
inside the SDK. Newer versions may add fields; ``job_id`` stays.
"""

from __future__ import annotations

import base64
import json

VERSION = 1


class UndecodableBody(ValueError):
    """The message body is not a job message of any version."""


def encode_job(job_id: str) -> str:
    payload = {"v": VERSION, "job_id": job_id}
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def decode_job(body: str | bytes) -> str:
    """The job id carried by ``body``. Raises UndecodableBody."""
    try:
        payload = json.loads(base64.b64decode(body, validate=True).decode("utf-8"))
    except ValueError as exc:  # binascii.Error, UnicodeDecodeError and JSONDecodeError
        raise UndecodableBody(f"not base64 JSON: {body[:80]!r}") from exc
    if not isinstance(payload, dict):
        raise UndecodableBody(f"not a JSON object: {payload!r:.80}")
    version, job_id = payload.get("v"), payload.get("job_id")
    if not isinstance(version, int) or version < 1:
        raise UndecodableBody(f"no version: {payload!r:.80}")
    if not isinstance(job_id, str) or not job_id:
        raise UndecodableBody(f"no job_id: {payload!r:.80}")
    return job_id
