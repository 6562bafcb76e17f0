"""Webhook request signatures. The caller sends ``X-Webhook-Timestamp: <unix seconds>`` and
``X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>\n<target>\n<code>\n<raw body>")>``,
with ``target`` and ``code`` exactly as in the query string (neither may hold a line break).
The signature covers what the call does (which order, which trigger, what payload), so a
captured call cannot be aimed elsewhere; a call more than five minutes off is refused, so
it cannot be replayed later; the comparison takes constant time."""

from __future__ import annotations

import hashlib
import hmac
import re

TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"^\d{1,12}$")


def signature(secret: str, timestamp: str, target: str, code: str, body: bytes) -> str:
    # Line breaks part the fields: none can hold one, so no two calls sign the same text.
    signed = f"{timestamp}\n{target}\n{code}\n".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def check(
    secret: str, timestamp: str | None, given: str | None, target: str, code: str, body: bytes, now: float
) -> str | None:
    """None if the request is authentic and fresh; else why not."""
    if not timestamp or not given:
        return "missing signature or timestamp"
    if not _TIMESTAMP.match(timestamp):
        return "bad timestamp: unix seconds expected"
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        return "stale timestamp"
    if "\n" in target or "\n" in code:
        return "bad signature"
    expected = signature(secret, timestamp, target, code, body)
    if not hmac.compare_digest(given.encode(errors="replace"), expected.encode()):
        return "bad signature"
    return None
