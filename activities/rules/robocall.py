from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from activities.rules._messaging import AUTO, customer_phone, deliver, no_phone
from activities.rules._outbox import unconfirmed
from activities.rules.base import RuleContext, RuleType, refuse, shorten
from automation.rules import RuleParams, RuleResult
from automation.templating import Template
from providers.telephony import MAX_TWIML, play, say


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


async def _twiml(ctx: RuleContext, params: RobocallParams) -> tuple[str, str]:
    """What the call does, as TwiML, and a line for the timeline."""
    if params.mp3_url is not None:
        return play(params.mp3_url), params.mp3_url
    text = (await ctx.render(params.text or "")).strip()
    if not text:
        raise refuse("the call's text is empty after templating")
    twiml = say(text, voice=params.voice, language=params.language, rate=params.speech_rate, volume=params.volume)
    if len(twiml) > MAX_TWIML:
        raise refuse(f"the call's text is too long after templating ({len(twiml)} of {MAX_TWIML} characters of TwiML)")
    return twiml, text


async def robocall(ctx: RuleContext, params: RobocallParams) -> RuleResult:
    twiml, said = await _twiml(ctx, params)
    voice = ctx.deps.providers.voice(ctx.deps.settings)
    voice.caller(params.line)  # an unknown line is refused before anything is recorded
    phone = await customer_phone(ctx, params.phone_type)
    if phone is None:
        return no_phone(params.phone_type)

    async def call(to: str, body: str, key: str) -> str:
        return await voice.call(to, params.line, body, key)

    row = await deliver(ctx, "call", phone, twiml, call, subject=f"line {params.line}")
    summary = f"robocall to {row.recipient} from line {params.line} ({row.message_id}): {shorten(said)}"
    return unconfirmed(row, "robocall") or RuleResult(summary=summary)


RULE = RuleType(
    kind="robocall",
    title="Robocall",
    description="calls the customer from an outgoing line and reads a text or plays an .mp3; nothing without a phone",
    params=RobocallParams,
    run=robocall,
    sends_messages=True,
)
