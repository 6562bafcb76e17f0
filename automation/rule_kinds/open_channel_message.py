"""The core spec of this rule type; its activity is activities/rules/open_channel_message.py."""

from __future__ import annotations

from pydantic import Field

from automation.rules import RuleKind, RuleParams
from automation.templating import Template


class OpenChannelMessageParams(RuleParams):
    text: Template = Field(min_length=1, max_length=4000, description="order values allowed")
    whisper: bool = Field(default=False, description="visible only to employees, not to the customer")


KIND = RuleKind(
    group="customer_communication",
    name="open_channel_message",
    title="Open-channel message",
    description="writes in the channel the customer last wrote in (whisper: employees only); nothing without one",
    params=OpenChannelMessageParams,
    sends_messages=True,
)
