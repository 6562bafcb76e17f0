"""Webhook request signatures: ``X-Webhook-Timestamp: <unix seconds>`` and
``X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>``.
A request more than five minutes off is refused, so a captured one cannot be replayed
later; the comparison takes constant time."""

from __future__ import annotations

import hashlib
import hmac

TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def check(secret: str, timestamp: str | None, given: str | None, body: bytes, now: float) -> str | None:
    """None if the request is authentic and fresh; else why not."""
    if not timestamp or not given:
        return "missing signature or timestamp"
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "bad timestamp"
    if abs(now - sent_at) > TOLERANCE_SECONDS:
        return "stale timestamp"
    if not hmac.compare_digest(given.encode(), signature(secret, timestamp, body).encode()):
        return "bad signature"
    return None
