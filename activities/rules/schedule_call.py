from activities.rules._order_activity import ScheduleParams, schedule
from activities.rules.base import RuleContext, RuleType
from automation.rules import RuleResult


class ScheduleCallParams(ScheduleParams):
    pass


async def schedule_call(ctx: RuleContext, params: ScheduleCallParams) -> RuleResult:
    return await schedule(ctx, "call", params)


RULE = RuleType(
    kind="schedule_call",
    title="Schedule call",
    description="plans a call, listed among the order's activities",
    params=ScheduleCallParams,
    run=schedule_call,
)
