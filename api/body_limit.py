"""A limit on request bodies, enforced before a body is read whole."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _TooBig(Exception):
    """Raised into the app when a body passes the limit (it has been answered with a 413)."""


class BodyLimit:
    """Refuses (413) a request body over ``most`` bytes: at once when its Content-Length
    says so, else as soon as what arrives passes it; so no request makes the server read
    and parse megabytes while others wait."""

    def __init__(self, app: ASGIApp, most: int, under: dict[str, int] | None = None) -> None:
        self.app, self.default, self.under = app, most, under or {}
        """``under``: paths under a prefix with a limit of their own."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        most = next((limit for prefix, limit in self.under.items() if scope["path"].startswith(prefix)), self.default)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > most):
            await self._refuse(send, most)
            return
        received, refused = 0, False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > most:
                    refused = True
                    await self._refuse(send, most)
                    raise _TooBig  # the app stops reading; whatever it answers then is dropped
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        with contextlib.suppress(_TooBig):  # answered already
            await self.app(scope, counting_receive, unless_refused)

    async def _refuse(self, send: Send, most: int) -> None:
        body: dict[str, Any] = {"detail": "request body too large", "errors": [f"body: at most {most:,} bytes"]}
        data = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                   (b"connection", b"close")]  # fmt: skip
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": data})
