"""The core spec of this rule type; its activity is activities/rules/send_sms.py."""

from __future__ import annotations

from pydantic import Field

from automation.rule_kinds._parts import AUTO, SmsParams
from automation.rules import RuleKind


class SendSmsParams(SmsParams):
    phone_type: str = Field(default=AUTO, min_length=1, description="mobile, work...; 'auto' = the first phone")


KIND = RuleKind(
    group="customer_communication",
    name="send_sms",
    title="Send SMS",
    description="texts the customer (phone of a type, or the first) through the SMS provider; nothing without one",
    params=SendSmsParams,
    sends_messages=True,
)
