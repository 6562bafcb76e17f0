from pydantic import Field

from activities.rules._messaging import AUTO, customer_phone, no_phone, send_sms_to, sms_text
from activities.rules.base import RuleContext, RuleType
from automation.rules import RuleParams, RuleResult
from automation.templating import Template
from providers import SmsProviderName
from providers.sms import MAX_LENGTH


class SendSmsParams(RuleParams):
    text: Template = Field(
        min_length=1, max_length=MAX_LENGTH, description="at most 200 characters after templating; order values allowed"
    )
    provider: SmsProviderName = Field(default="twilio", description="the SMS provider (its account is in settings)")
    phone_type: str = Field(default=AUTO, min_length=1, description="mobile, work...; 'auto' = the first phone")


async def send_sms(ctx: RuleContext, params: SendSmsParams) -> RuleResult:
    text = await sms_text(ctx, params.text)
    phone = await customer_phone(ctx, params.phone_type)
    if phone is None:
        return no_phone(params.phone_type)
    return await send_sms_to(ctx, params.provider, phone, text)


RULE = RuleType(
    kind="send_sms",
    title="Send SMS",
    description="texts the customer (phone of a type, or the first) through the SMS provider; nothing without one",
    params=SendSmsParams,
    run=send_sms,
    sends_messages=True,
)
