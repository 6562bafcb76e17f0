"""Temporal's codec server: ``POST /codec/decode`` and ``/codec/encode`` take and answer
``{"payloads": [...]}`` (the JSON form of Temporal's ``Payloads``), so that the Web UI
and the ``temporal`` CLI of someone with a key show an order's payloads decrypted, and
everyone else sees ciphertext. It needs a key with the ``payloads:decode`` scope (or
``admin``), or a browser's session standing for one (``/codec/sign-in``, which sets it:
a browser cannot send a key); the UI's origin may call it (CORS, ``CODEC_ORIGINS``)."""

from __future__ import annotations

import html
import time
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from google.protobuf import json_format
from google.protobuf.json_format import ParseError
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payloads

from api.auth import DecodesPayloads, checked
from api.codec_session import COOKIE, HOURS, new_session
from api.dependencies import AppSettings, Store
from api.errors import invalid_request
from encryption import EncryptionCodec, PayloadKeyError
from store.access import key_of
from store.database import session

router = APIRouter(prefix="/codec", tags=["codec"])


class PayloadsBody(BaseModel):
    payloads: list[dict[str, Any]] = Field(
        default_factory=list, description="Temporal payloads in their JSON form: metadata and data, base64"
    )


def _codec(request: Request) -> EncryptionCodec:
    codec = request.app.state.codec
    if not isinstance(codec, EncryptionCodec):
        raise HTTPException(503, "this API's Temporal client encrypts nothing: there is nothing to decode")
    return codec


def _parsed(body: PayloadsBody) -> Payloads:
    return json_format.ParseDict({"payloads": body.payloads}, Payloads())


@router.post("/decode", response_model=PayloadsBody)
async def decode(caller: DecodesPayloads, body: PayloadsBody, request: Request) -> Any:
    """The payloads decrypted (those that were not encrypted, as they are)."""
    try:
        decoded = await _codec(request).decode(_parsed(body).payloads)
    except (ParseError, PayloadKeyError) as err:
        return invalid_request(f"payloads: {err}")
    return json_format.MessageToDict(Payloads(payloads=decoded))


@router.post("/encode", response_model=PayloadsBody)
async def encode(caller: DecodesPayloads, body: PayloadsBody, request: Request) -> Any:
    """The payloads encrypted with the current key (as the engine's clients do)."""
    try:
        encoded = await _codec(request).encode(_parsed(body).payloads)
    except ParseError as err:
        return invalid_request(f"payloads: {err}")
    return json_format.MessageToDict(Payloads(payloads=encoded))


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Codec server: sign in</title>
<style>body {{ font: 16px system-ui, sans-serif; max-width: 36em; margin: 4em auto; color: #222 }}
input {{ font: inherit; width: 100%; padding: .4em; margin: .5em 0 }} button {{ font: inherit; padding: .4em 1.2em }}
.error {{ color: #a00 }} .done {{ color: #060 }}</style></head>
<body><h1>Decode payloads in the Temporal Web UI</h1>{body}</body></html>"""
_FORM = """<p>Order payloads are encrypted in Temporal. Sign in with an API key that has the
<code>payloads:decode</code> scope: this browser then decodes them in the Web UI, for {hours} hours.</p>
{message}<form method="post"><label>API key <input type="password" name="key" autocomplete="off" autofocus></label>
<button type="submit">Sign in</button></form>"""
_DONE = """<p class="done">Signed in with key <code>{key_id}</code> for {hours} hours.</p>
<p>In the Web UI's <em>Codec Server</em> settings, set the endpoint to <code>{endpoint}</code> and turn on
<em>Include cross-origin credentials</em>; order pages then show their payloads decoded.</p>"""


def _page(body: str, status: int = 200) -> HTMLResponse:
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}
    return HTMLResponse(_PAGE.format(body=body), status_code=status, headers=headers)


@router.get("/sign-in", include_in_schema=False)
async def sign_in_page() -> HTMLResponse:
    return _page(_FORM.format(hours=HOURS, message=""))


@router.post("/sign-in", include_in_schema=False)
async def sign_in(request: Request, store: Store, settings: AppSettings) -> HTMLResponse:
    """Checks the key (as a call with it would be) and keeps a session in a cookie."""
    secret = parse_qs((await request.body()).decode(errors="replace")).get("key", [""])[0].strip()
    async with session(store) as db:
        key = await key_of(db, secret)
    try:
        caller = checked(key, "payloads:decode")
        if not settings.tracking_secret:
            raise HTTPException(503, "this API has no TRACKING_SECRET to sign sessions with")
    except HTTPException as refused:
        message = f'<p class="error">{html.escape(str(refused.detail))}</p>'
        return _page(_FORM.format(hours=HOURS, message=message), status=refused.status_code)
    endpoint = str(request.url_for("decode")).removesuffix("/decode")
    answer = _page(_DONE.format(key_id=html.escape(caller.key_id), hours=HOURS, endpoint=html.escape(endpoint)))
    answer.set_cookie(
        COOKIE, new_session(settings.tracking_secret, caller.key_id, time.time()), max_age=HOURS * 3600,
        path="/codec", httponly=True, samesite="strict", secure=request.url.scheme == "https",
    )  # fmt: skip
    return answer
