"""The V2 request signature the fake checks, and the signed headers it answers with.

Why this exists: the SDK signs every request and refuses any 2xx answer whose headers are
missing or not signed with the same secret, so the fake must do both sides exactly:
request: ``base64(HMAC-SHA1(secret, "/Api\\nPOST\\n\\n" + sorted "k:v" x-ots-* lines + "\\n"))``
in ``x-ots-signature``; answer: ``authorization: OTS <ak>:`` + ``base64(HMAC-SHA1(secret,
sorted "k:v" x-ots-* lines + "\\n/Api"))``, next to the content MD5, request id, date and
content type headers. A request is also refused for another instance, API version, content
MD5 or a clock more than 15 minutes off, as the service does.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import uuid
from dataclasses import dataclass

from tests.fakes.tablestore.conditions import OtsError

DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.000Z"
MAX_SKEW_SECONDS = 15 * 60


def content_md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode()


def canonical_headers(headers: dict[str, str]) -> str:
    lines = (f"{k}:{v.strip()}" for k, v in headers.items() if k.startswith("x-ots-"))
    return "\n".join(sorted(lines))


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    access_key_secret: str
    instance: str

    def sign(self, text: str) -> str:
        key = self.access_key_secret.encode()
        return base64.b64encode(hmac.new(key, text.encode(), hashlib.sha1).digest()).decode()

    def signature_ok(self, path: str, headers: dict[str, str]) -> bool:
        """``headers`` with lower-cased names, as received."""
        signed = {k: v for k, v in headers.items() if k != "x-ots-signature"}
        expected = self.sign(f"{path}\nPOST\n\n{canonical_headers(signed)}\n")
        return hmac.compare_digest(expected, headers.get("x-ots-signature", ""))

    def verify(self, path: str, headers: dict[str, str], body: bytes) -> None:
        """Raise the service's error for a request it would refuse before running it."""
        if headers.get("x-ots-accesskeyid") != self.access_key_id or not self.signature_ok(
            path, headers
        ):
            raise OtsError(403, "OTSAuthFailed", "Signature mismatch.")
        if headers.get("x-ots-instancename") != self.instance:
            raise OtsError(403, "OTSAuthFailed", "The instance is not found.")
        if headers.get("x-ots-apiversion") != "2015-12-31":
            raise OtsError(400, "OTSUnsupportOperation", "Unsupported API version.")
        if headers.get("x-ots-contentmd5") != content_md5(body):
            raise OtsError(400, "OTSParameterInvalid", "Content MD5 mismatch.")
        try:
            sent = datetime.datetime.strptime(headers.get("x-ots-date", ""), DATE_FORMAT)
        except ValueError:
            raise OtsError(400, "OTSParameterInvalid", "Invalid x-ots-date.") from None
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        if abs((now - sent).total_seconds()) > MAX_SKEW_SECONDS:
            raise OtsError(403, "OTSAuthFailed", "Mismatch between system time and x-ots-date.")

    def response_headers(self, path: str, body: bytes) -> dict[str, str]:
        headers = {
            "x-ots-contentmd5": content_md5(body),
            "x-ots-requestid": uuid.uuid4().hex,
            "x-ots-date": datetime.datetime.now(datetime.UTC).strftime(DATE_FORMAT),
            "x-ots-contenttype": "protocol buffer",
        }
        signature = self.sign(canonical_headers(headers) + "\n" + path)
        return {**headers, "authorization": f"OTS {self.access_key_id}:{signature}"}
