"""Customer data encrypted in Temporal: a payload codec (AES-256-GCM, from ``cryptography``)
through which every client and worker of the engine writes its payloads: workflow inputs
and the state handed over at continue-as-new, signals, updates and their answers, queries,
activity inputs and results, failure details. Search attributes stay as they are (ids
only, for the Web UI's filters), and so do failure messages: a query's failure reaches
its caller as the message alone, which must stay readable ("the order is still starting").

Each payload carries the id of the key that encrypted it, and the key id is bound to the
ciphertext (as associated data). ``PAYLOAD_KEYS`` lists keys as ``id:base64``, the newest
first: new payloads use the first, older ones stay readable while their key is listed. A
payload that is not encrypted (a history recorded before this codec) is read as it is.
This is the shape of Temporal's own encryption sample (``samples-python/encryption``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import re
import secrets
from collections.abc import Mapping, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

from automation.converter import data_converter

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_NONCE, _TAG = 12, 16
_KEY_ID_PATTERN = r"[A-Za-z0-9_.-]{1,40}"


class PayloadKeyError(ValueError):
    """Keys that cannot be used, or a payload none of them can read (saying which and why)."""


@dataclasses.dataclass(frozen=True)
class PayloadKeys:
    keys: Mapping[str, AESGCM]
    current: str
    """The id of the key new payloads are encrypted with."""

    @classmethod
    def parse(cls, text: str) -> PayloadKeys:
        """``id:base64 of 32 bytes`` entries, comma-separated, the current key first."""
        keys: dict[str, AESGCM] = {}
        for number, entry in enumerate(part.strip() for part in text.split(",") if part.strip()):
            key_id, _, encoded = entry.partition(":")
            if not re.fullmatch(_KEY_ID_PATTERN, key_id):
                raise PayloadKeyError(f"PAYLOAD_KEYS entry {number + 1}: its id must be 1-40 of A-Z a-z 0-9 _ . -")
            try:
                raw = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raw = b""
            if len(raw) != 32:
                raise PayloadKeyError(f"PAYLOAD_KEYS key {key_id!r}: must be 32 bytes, base64-encoded")
            if key_id in keys:
                raise PayloadKeyError(f"PAYLOAD_KEYS key {key_id!r}: listed twice")
            keys[key_id] = AESGCM(raw)
        if not keys:
            raise PayloadKeyError("PAYLOAD_KEYS: no key (`id:base64 of 32 bytes`, the current one first)")
        return cls(keys, current=next(iter(keys)))


def new_key(key_id: str | None = None) -> str:
    """A new ``PAYLOAD_KEYS`` entry (put it first to rotate to it)."""
    return f"{key_id or secrets.token_hex(4)}:{base64.b64encode(os.urandom(32)).decode()}"


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: PayloadKeys) -> None:
        self._keys = keys

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id = self._keys.current
        nonce = os.urandom(_NONCE)
        sealed = self._keys.keys[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before payloads were encrypted
        key_id = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        key = self._keys.keys.get(key_id)
        if key is None:
            raise PayloadKeyError(f"a payload encrypted with key {key_id!r}, which PAYLOAD_KEYS does not list")
        if len(payload.data) < _NONCE + _TAG:
            raise PayloadKeyError(f"a payload too short to be encrypted with key {key_id!r}")
        try:
            plain = key.decrypt(payload.data[:_NONCE], payload.data[_NONCE:], key_id.encode())
        except InvalidTag:
            raise PayloadKeyError(f"a payload that key {key_id!r} cannot decrypt (altered, or another key)") from None
        return Payload.FromString(plain)


def encrypting_converter(keys: PayloadKeys) -> DataConverter:
    """The engine's data converter, encrypting payloads with ``keys``."""
    return dataclasses.replace(data_converter, payload_codec=EncryptionCodec(keys))
