"""The core spec of this rule type; its activity is activities/rules/robocall.py."""

from __future__ import annotations

from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from automation.rule_kinds._parts import AUTO
from automation.rules import RuleKind, RuleParams
from automation.templating import Template


class RobocallParams(RuleParams):
    line: str = Field(default="main", min_length=1, max_length=64, description="outgoing line, named in VOICE_LINES")
    text: Template | None = Field(default=None, min_length=1, max_length=3000, description="read aloud; order values")
    speech_rate: Literal["x-slow", "slow", "medium", "fast", "x-fast"] = Field(default="medium")
    volume: Literal["silent", "x-soft", "soft", "medium", "loud", "x-loud"] = Field(default="medium")
    language: str = Field(default="en-US", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="e.g. en-US")
    voice: str = Field(default="Polly.Joanna", pattern=r"^[A-Za-z0-9._-]{1,64}$", description="the provider's voice")
    mp3_url: str | None = Field(default=None, max_length=2000, description="a public https .mp3 link, instead of text")
    phone_type: str = Field(default=AUTO, min_length=1, description="mobile, work...; 'auto' = the first phone")

    @field_validator("mp3_url")
    @classmethod
    def _public_mp3(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or not parts.path.lower().endswith(".mp3"):
            raise ValueError("must be an https link to an .mp3 file")
        return url

    @model_validator(mode="after")
    def _text_or_recording(self) -> Self:
        if (self.text is None) == (self.mp3_url is None):
            raise ValueError("give either text or mp3_url (exactly one)")
        return self


KIND = RuleKind(
    group="customer_communication",
    name="robocall",
    title="Robocall",
    description="calls the customer from an outgoing line and reads a text or plays an .mp3; nothing without a phone",
    params=RobocallParams,
    sends_messages=True,
)
