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

    def __init__(self, app: ASGIApp, most: int) -> None:
        self.app, self.most = app, most

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.most):
            await self._refuse(send)
            return
        received, refused = 0, False

        async def counting_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > self.most:
                    refused = True
                    await self._refuse(send)
                    raise _TooBig  # the app stops reading; whatever it answers then is dropped
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        with contextlib.suppress(_TooBig):  # answered already
            await self.app(scope, counting_receive, unless_refused)

    async def _refuse(self, send: Send) -> None:
        body: dict[str, Any] = {"detail": "request body too large", "errors": [f"body: at most {self.most:,} bytes"]}
        data = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                   (b"connection", b"close")]  # fmt: skip
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": data})
