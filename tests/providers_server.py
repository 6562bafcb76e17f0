"""A loopback HTTP server that speaks like the providers: Twilio's Messages and Calls APIs
and the open-channel API. It records every request, delivers once per idempotency token
(the same token again answers the first sid), and can be told to fail."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from starlette.requests import ClientDisconnect

from api.server import serving
from devserver import free_port
from providers import http_client
from store.database import session
from store.tables import SentMessage

Kind = Literal["sms", "call", "chat"]
ACCOUNT_SID, AUTH_TOKEN, CHAT_TOKEN = "AC0123456789abcdef", "test-auth-token", "test-chat-token"


@dataclass
class Received:
    kind: Kind
    path: str
    fields: dict[str, Any]
    """The form fields (Twilio) or the JSON body (open channels)."""
    token: str | None
    """The idempotency token (header for Twilio, ``idempotency_key`` for open channels)."""
    authorized: bool
    content_type: str
    id: str = ""


@dataclass
class ProvidersServer:
    url: str = ""
    http: httpx.AsyncClient = field(default_factory=http_client)
    requests: list[Received] = field(default_factory=list)
    """Every request, retries and failures included."""
    delivered: list[Received] = field(default_factory=list)
    """What reached the customer: once per idempotency token."""
    _answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    _failures: list[tuple[int, str | None]] = field(default_factory=list)
    _invalid: set[str] = field(default_factory=set)
    _lose: int = 0
    failing: bool = False
    """While set, every request is answered 503 (a provider that is down)."""
    hang_seconds: float = 0.0
    """While set, each message is delivered, then the answer waits this long (a provider
    that hangs: the sender times out, not knowing)."""
    on_delivery: Callable[[], None] | None = None
    """Called once a message is delivered, before the answer goes back (e.g. to kill the
    worker that sent it, so that it never learns it was sent)."""

    def reset(self) -> None:
        self.requests.clear()
        self.delivered.clear()
        self._answers.clear()
        self._failures.clear()
        self._invalid.clear()
        self._lose = 0
        self.failing, self.hang_seconds = False, 0.0
        self.on_delivery = None

    def settings(self) -> dict[str, Any]:
        return {
            "sms_base_url": self.url, "sms_account_sid": ACCOUNT_SID, "sms_auth_token": AUTH_TOKEN,
            "sms_from": "+15005550006", "voice_base_url": self.url,
            "voice_lines": {"main": "+15005550006", "support": "+15005550007"},
            "chat_base_url": self.url, "chat_api_token": CHAT_TOKEN,
        }  # fmt: skip

    def fail_next(self, status: int = 503, retry_after: str | None = None, times: int = 1) -> None:
        """The next ``times`` requests are answered ``status`` (with ``Retry-After``)."""
        self._failures.extend([(status, retry_after)] * times)

    def refuse(self, target: str) -> None:
        """Requests to this number (Twilio error 21211) or channel (404) are refused."""
        self._invalid.add(target)

    def lose_next_response(self) -> None:
        """Delivers the next message, then breaks the connection halfway through the
        answer: the sender cannot tell whether it went out."""
        self._lose += 1

    def of(self, kind: Kind) -> list[dict[str, Any]]:
        return [r.fields for r in self.delivered if r.kind == kind]

    async def handle(self, kind: Kind, request: Request, target_field: str) -> Response:
        try:
            fields, token, authorized = await _read(kind, request)
        except ClientDisconnect:  # the sender died mid-request (a killed worker): nothing arrived
            return JSONResponse({}, status_code=400)
        content_type = request.headers.get("Content-Type", "")
        received = Received(kind, request.url.path, fields, token, authorized, content_type)
        self.requests.append(received)
        if not authorized:
            return _error(401, 20003, "Authentication Error - invalid username")
        if self.failing:
            return _error(503, 20500, "down for maintenance")
        if self._failures:
            status, retry_after = self._failures.pop(0)
            headers = {"Retry-After": retry_after} if retry_after else {}
            return _error(status, 20429 if status == 429 else 20500, "try again later", headers)
        if token is not None and token in self._answers:
            return JSONResponse(self._answers[token], status_code=201)
        if self.hang_seconds:
            answer = self._deliver(received, token)
            await asyncio.sleep(self.hang_seconds)
            return answer
        target = str(fields.get(target_field, ""))
        if target in self._invalid:
            if kind == "chat":
                return JSONResponse({"error": f"channel {target} is closed"}, status_code=404)
            return _error(400, 21211, f"The 'To' number {target} is not a valid phone number.")
        return self._deliver(received, token)

    def _deliver(self, received: Received, token: str | None) -> Response:
        prefix = {"sms": "SM", "call": "CA", "chat": "msg-"}[received.kind]
        received.id = prefix + uuid.uuid4().hex
        answer = {"id": received.id} if received.kind == "chat" else {"sid": received.id, "status": "queued"}
        self.delivered.append(received)
        if token is not None:
            self._answers[token] = answer
        if self.on_delivery is not None:
            self.on_delivery()
        if self._lose:
            self._lose -= 1
            return StreamingResponse(_broken(json.dumps(answer).encode()), status_code=201)
        return JSONResponse(answer, status_code=201)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/2010-04-01/Accounts/{account}/Messages.json")
        async def messages(account: str, request: Request) -> Response:
            return await self.handle("sms", request, "To")

        @app.post("/2010-04-01/Accounts/{account}/Calls.json")
        async def calls(account: str, request: Request) -> Response:
            return await self.handle("call", request, "To")

        @app.post("/channels/{channel_id}/messages")
        async def chat(channel_id: str, request: Request) -> Response:
            return await self.handle("chat", request, "channel_id")

        @app.get("/channels/{channel_id}/messages")
        async def find(channel_id: str, idempotency_key: str) -> JSONResponse:
            answer = self._answers.get(idempotency_key)
            return JSONResponse(answer) if answer is not None else JSONResponse({"error": "none"}, status_code=404)

        return app


async def _read(kind: Kind, request: Request) -> tuple[dict[str, Any], str | None, bool]:
    """The request's fields, idempotency token, and whether its credentials are right."""
    authorization = request.headers.get("Authorization", "")
    if kind == "chat":
        body: dict[str, Any] = await request.json()
        body["channel_id"] = request.path_params["channel_id"]
        return body, body.get("idempotency_key"), authorization == f"Bearer {CHAT_TOKEN}"
    form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))  # as Twilio reads it
    basic = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    right = authorization == f"Basic {basic}" and f"/Accounts/{ACCOUNT_SID}/" in request.url.path
    return form, request.headers.get("I-Twilio-Idempotency-Token"), right


async def _broken(body: bytes) -> AsyncIterator[bytes]:
    """Half the answer, then the connection drops (the server gives up on the response)."""
    yield body[: len(body) // 2]
    raise ConnectionResetError("the answer was lost on the way back")


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    info = f"https://www.twilio.com/docs/errors/{code}"
    body = {"code": code, "message": message, "more_info": info, "status": status}
    return JSONResponse(body, status_code=status, headers=headers)


@pytest.fixture(scope="session", name="providers_server_for_session")
async def serve_providers() -> AsyncIterator[ProvidersServer]:
    server = ProvidersServer()
    async with serving(server.app(), "127.0.0.1", free_port()) as url:
        server.url = url
        yield server
        await server.http.aclose()


@pytest.fixture(name="providers_server")
def fresh_providers_server(providers_server_for_session: ProvidersServer) -> ProvidersServer:
    """The providers' loopback server, with nothing received yet (import both fixtures)."""
    providers_server_for_session.reset()
    return providers_server_for_session


async def outbox_row(engine: AsyncEngine, run_key: str) -> SentMessage | None:
    """The outbox row a rule run wrote, if any."""
    async with session(engine) as db:
        return (await db.exec(select(SentMessage).where(SentMessage.run_key == run_key))).first()
