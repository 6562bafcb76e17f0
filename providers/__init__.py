"""Ways out of the engine to the world: mail over SMTP (``mail.py``); SMS, robocalls and
open-channel messages over HTTP APIs (``sms.py``, ``telephony.py``, ``chat.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from automation.rule_kinds._parts import SmsProviderName
from config import Settings
from providers.chat import OpenChannels
from providers.sms import TwilioSms
from providers.telephony import TwilioVoice
from providers.twilio import TwilioAccount


def http_client(timeout: float = 15.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False)


@dataclass(frozen=True)
class Providers:
    """The HTTP providers. They share one connection pool, and each reads its URL and
    credentials from the worker's settings when used, so the two cannot disagree."""

    http: httpx.AsyncClient = field(default_factory=http_client)

    def sms(self, settings: Settings, name: SmsProviderName = "twilio") -> TwilioSms:
        # One provider today; another is one more ``name`` and class of the same shape.
        account = TwilioAccount(settings.sms_base_url, settings.sms_account_sid, settings.sms_auth_token)
        return TwilioSms(self.http, account, settings.sms_from)

    def voice(self, settings: Settings) -> TwilioVoice:
        # Calls usually go through the same account as SMS: empty credentials mean those.
        account = TwilioAccount(
            settings.voice_base_url,
            settings.voice_account_sid or settings.sms_account_sid,
            settings.voice_auth_token or settings.sms_auth_token,
        )
        return TwilioVoice(self.http, account, settings.voice_lines)

    def chat(self, settings: Settings) -> OpenChannels:
        return OpenChannels(self.http, settings.chat_base_url, settings.chat_api_token)
