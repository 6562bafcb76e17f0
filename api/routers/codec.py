"""Temporal's codec server: ``POST /codec/decode`` and ``/codec/encode`` take and answer
``{"payloads": [...]}`` (the JSON form of Temporal's ``Payloads``), so that the Web UI
and the ``temporal`` CLI of someone with a key show an order's payloads decrypted, and
everyone else sees ciphertext. It needs a key with the ``payloads:decode`` scope (or
``admin``); the UI's origin may call it (CORS, ``CODEC_ORIGINS``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from google.protobuf import json_format
from google.protobuf.json_format import ParseError
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payloads

from api.auth import DecodesPayloads
from api.errors import invalid_request
from encryption import EncryptionCodec, PayloadKeyError

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
