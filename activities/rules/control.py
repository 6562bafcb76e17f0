from activities.rules._notify import notify
from activities.rules.base import RuleContext
from automation.rule_kinds.control import ControlParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: ControlParams) -> RuleResult:
    return await notify(ctx, params.employee_id, params.text)
