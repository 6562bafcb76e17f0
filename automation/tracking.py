"""Signed tracking links: the open pixel and tracked links of sent e-mails, and the link
of a generated document. A token names the order and what to fire; its HMAC means nobody
can forge one for another order."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

Kind = Literal["open", "click", "document"]


class Tracked(BaseModel):
    kind: Kind
    order_id: str
    ref: str
    """The Message-ID of the e-mail, or the document id."""
    url: str | None = None
    """Where a click leads (the original link)."""
    template_id: str | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()[:16])


def sign(secret: str, tracked: Tracked) -> str:
    body = _b64(json.dumps(tracked.model_dump(exclude_none=True), separators=(",", ":")).encode())
    return f"{body}.{_mac(secret, body)}"


def verify(secret: str, token: str) -> Tracked | None:
    """The tracked thing, or None if the token was not made with ``secret``."""
    body, _, mac = token.partition(".")
    if not hmac.compare_digest(mac.encode(errors="replace"), _mac(secret, body).encode()):
        return None
    try:
        data: Any = json.loads(_unb64(body))
        return Tracked.model_validate(data)
    except (ValueError, ValidationError):
        return None


_PATHS: dict[Kind, str] = {"open": "t/open", "click": "t/click", "document": "t/doc"}


def url(base_url: str, secret: str, tracked: Tracked) -> str:
    return f"{base_url.rstrip('/')}/{_PATHS[tracked.kind]}/{sign(secret, tracked)}"


def is_tracked(base_url: str, link: str) -> bool:
    return link.startswith(f"{base_url.rstrip('/')}/t/")


HIDDEN = "[signed link: sent to the customer, not shown here]"


def hidden_links(value: Any, base_url: str) -> Any:
    """``value`` (JSON) with every signed link in its texts replaced by ``HIDDEN``: whoever
    holds one can fire its event (a document opened, a link clicked) as the customer."""
    pattern = re.compile(re.escape(base_url.rstrip("/")) + r"/t/[^\s\"'<>]+")
    if isinstance(value, str):
        return pattern.sub(HIDDEN, value)
    if isinstance(value, dict):
        return {key: hidden_links(item, base_url) for key, item in value.items()}
    if isinstance(value, list):
        return [hidden_links(item, base_url) for item in value]
    return value
