"""Messages into the open channels customers write in (site chat, messengers), through an
HTTP API: ``POST {base}/channels/{channel_id}/messages`` with JSON ``{text, whisper,
idempotency_key}``, answered ``{"id": ...}``. A whisper is seen by employees only. The API
can be asked whether it has a message: ``GET {base}/channels/{channel_id}/messages?
idempotency_key=...``, answered ``{"id": ...}`` or 404."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx

from providers.http_api import post, refused


@dataclass(frozen=True)
class OpenChannels:
    http: httpx.AsyncClient
    base_url: str
    token: str = ""
    """Sent as a bearer token when set."""

    async def send(self, channel_id: str, text: str, whisper: bool, idempotency_key: str) -> str:
        """Posts ``text`` in the channel; returns the provider's message id."""
        what = "open-channel provider"
        if not self.base_url:
            raise refused(f"{what} is not configured (base URL needed)")
        answer = await post(
            self.http,
            what,
            self._url(channel_id),
            json={"text": text, "whisper": whisper, "idempotency_key": idempotency_key},
            headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
        )
        message_id = answer.get("id")
        return str(message_id) if isinstance(message_id, str | int) else ""  # taken; its id unknown if none

    async def find(self, channel_id: str, idempotency_key: str) -> str | None:
        """The id of the message posted with ``idempotency_key``, or None if the channel has
        none; raises if the provider cannot tell (unreachable, another answer)."""
        response = await self.http.get(
            self._url(channel_id),
            params={"idempotency_key": idempotency_key},
            headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        message_id = response.json().get("id")
        return str(message_id) if message_id is not None else ""

    def _url(self, channel_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/channels/{quote(channel_id, safe='')}/messages"
