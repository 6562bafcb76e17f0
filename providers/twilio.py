"""The part of Twilio's REST API shape that SMS and calls share: resources under
``/2010-04-01/Accounts/{sid}/``, form-encoded, HTTP basic auth with the account's sid and
token. Each request carries the rule run as an idempotency token, for providers that
honour one; the engine does not count on it (its outbox sends at most once)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx

from providers.http_api import post, refused

IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


@dataclass(frozen=True)
class TwilioAccount:
    base_url: str
    account_sid: str
    auth_token: str

    def url(self, resource: str) -> str:
        return f"{self.base_url.rstrip('/')}/2010-04-01/Accounts/{quote(self.account_sid, safe='')}/{resource}.json"

    async def create(
        self, http: httpx.AsyncClient, what: str, resource: str, form: dict[str, str], idempotency_key: str
    ) -> str:
        """Creates a ``resource`` (Messages, Calls) from ``form``; returns its sid."""
        if not (self.base_url and self.account_sid and self.auth_token):
            raise refused(f"{what} is not configured (base URL, account sid and auth token are needed)")
        answer = await post(
            http,
            what,
            self.url(resource),
            data=form,
            auth=(self.account_sid, self.auth_token),
            headers={IDEMPOTENCY_HEADER: idempotency_key},
        )
        sid = answer.get("sid")
        return sid if isinstance(sid, str) else ""  # taken; its sid unknown if it sent none
