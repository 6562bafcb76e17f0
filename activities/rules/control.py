from activities.rules._notify import notify
from activities.rules.base import RuleContext
from automation.rule_kinds.control import NotifyEmployeeParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: NotifyEmployeeParams) -> RuleResult:
    return await notify(ctx, params.employee_id, params.text)
