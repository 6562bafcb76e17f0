from activities.rules._order_activity import schedule
from activities.rules.base import RuleContext
from automation.rule_kinds._parts import ScheduleParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: ScheduleParams) -> RuleResult:
    return await schedule(ctx, "call", params)
