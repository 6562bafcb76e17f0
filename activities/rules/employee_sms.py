from pydantic import Field

from activities.rules._messaging import dialable, send_sms_to, sms_text
from activities.rules.base import RESPONSIBLE, RuleContext, RuleType
from automation.models import LooseId
from automation.rules import RuleParams, RuleResult
from automation.templating import Template
from providers import SmsProviderName
from providers.sms import MAX_LENGTH


class EmployeeSmsParams(RuleParams):
    employee_id: LooseId = Field(default=RESPONSIBLE, description="who gets it; 'responsible' = the order's")
    text: Template = Field(
        min_length=1, max_length=MAX_LENGTH, description="at most 200 characters after templating; order values allowed"
    )
    provider: SmsProviderName = Field(default="twilio", description="the SMS provider (its account is in settings)")


async def employee_sms(ctx: RuleContext, params: EmployeeSmsParams) -> RuleResult:
    employee = await ctx.employee(params.employee_id)
    text = await sms_text(ctx, params.text)
    phone = dialable(employee.phone or "")
    if not phone:
        return RuleResult(summary=f"not sent: {employee.name} has no phone number", effective=False)
    return await send_sms_to(ctx, params.provider, phone, text)


RULE = RuleType(
    kind="employee_sms",
    title="SMS to an employee",
    description="texts an employee (the responsible by default) through the SMS provider",
    params=EmployeeSmsParams,
    run=employee_sms,
    sends_messages=True,
)
