from activities.rules._messaging import dialable, send_sms_to, sms_text
from activities.rules.base import RuleContext
from automation.rule_kinds.employee_sms import EmployeeSmsParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: EmployeeSmsParams) -> RuleResult:
    employee = await ctx.employee(params.employee_id)
    text = await sms_text(ctx, params.text)
    phone = dialable(employee.phone or "")
    if not phone:
        return RuleResult(summary=f"not sent: {employee.name} has no phone number", effective=False)
    return await send_sms_to(ctx, params.provider, phone, text)
