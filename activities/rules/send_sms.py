from activities.rules._messaging import customer_phone, no_phone, send_sms_to, sms_text
from activities.rules.base import RuleContext
from automation.rule_kinds.send_sms import SendSmsParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: SendSmsParams) -> RuleResult:
    text = await sms_text(ctx, params.text)
    phone = await customer_phone(ctx, params.phone_type)
    if phone is None:
        return no_phone(params.phone_type)
    return await send_sms_to(ctx, params.provider, phone, text)
