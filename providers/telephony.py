"""Robocalls through an HTTP API of Twilio's Calls shape:
``POST {base}/2010-04-01/Accounts/{sid}/Calls.json`` with ``To``, ``From`` (the outgoing
line's number) and ``Twiml``, what the call says (``<Say>``) or plays (``<Play>``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from xml.etree import ElementTree

import httpx

from providers.http_api import refused
from providers.twilio import TwilioAccount

MAX_TWIML = 4000
"""Twilio's limit on the ``Twiml`` parameter."""


def say(text: str, *, voice: str, language: str, rate: str, volume: str) -> str:
    """TwiML that reads ``text`` aloud, at an SSML ``prosody`` rate and volume."""
    response = ElementTree.Element("Response")
    spoken = ElementTree.SubElement(response, "Say", {"voice": voice, "language": language})
    ElementTree.SubElement(spoken, "prosody", {"rate": rate, "volume": volume}).text = text
    return ElementTree.tostring(response, encoding="unicode")


def play(mp3_url: str) -> str:
    """TwiML that plays a recording."""
    response = ElementTree.Element("Response")
    ElementTree.SubElement(response, "Play").text = mp3_url
    return ElementTree.tostring(response, encoding="unicode")


@dataclass(frozen=True)
class TwilioVoice:
    http: httpx.AsyncClient
    account: TwilioAccount
    lines: Mapping[str, str]
    """Outgoing lines: name -> the caller number the customer sees."""

    def caller(self, line: str) -> str:
        number = self.lines.get(line)
        if not number:
            known = ", ".join(sorted(self.lines)) or "none"
            raise refused(f"no outgoing line {line!r} is configured; lines: {known}")
        return number

    async def call(self, to: str, line: str, twiml: str, idempotency_key: str) -> str:
        """Calls ``to`` from ``line`` and runs ``twiml``; returns the provider's call sid."""
        form = {"To": to, "From": self.caller(line), "Twiml": twiml}
        return await self.account.create(self.http, "telephony provider", "Calls", form, idempotency_key)
