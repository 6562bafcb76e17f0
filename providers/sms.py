"""SMS through an HTTP API of Twilio's Messages shape:
``POST {base}/2010-04-01/Accounts/{sid}/Messages.json`` with ``To``, ``From``, ``Body``."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from providers.twilio import TwilioAccount


@dataclass(frozen=True)
class TwilioSms:
    http: httpx.AsyncClient
    account: TwilioAccount
    sender: str

    async def send(self, to: str, body: str, idempotency_key: str) -> str:
        """Sends ``body`` to the number ``to``; returns the provider's message sid."""
        form = {"To": to, "From": self.sender, "Body": body}
        return await self.account.create(self.http, "SMS provider", "Messages", form, idempotency_key)
