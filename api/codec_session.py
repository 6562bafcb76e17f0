"""A signed-in session for the codec server, for browsers (the Temporal Web UI cannot send
an API key): ``<key id>.<expiry>.<HMAC>``, kept in an HttpOnly, same-site cookie for the
``/codec`` paths. It is worth what its key is worth: revoking the key ends it."""

from __future__ import annotations

import hashlib
import hmac

COOKIE = "codec_session"
HOURS = 8


def _mac(secret: str, body: str) -> str:
    key = hmac.new(secret.encode(), b"codec-session", hashlib.sha256).digest()
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def new_session(secret: str, key_id: str, now: float) -> str:
    body = f"{key_id}.{int(now) + HOURS * 3600}"
    return f"{body}.{_mac(secret, body)}"


def session_key(secret: str, token: str, now: float) -> str | None:
    """The key id a session stands for, unless it is forged or has expired."""
    key_id, _, rest = token.partition(".")
    expires, _, mac = rest.partition(".")
    if not expires.isdigit() or int(expires) < now:
        return None
    return key_id if hmac.compare_digest(mac, _mac(secret, f"{key_id}.{expires}")) else None
