from activities.rules._order_activity import ScheduleParams, schedule
from activities.rules.base import RuleContext, RuleType
from automation.rules import RuleResult


class ScheduleMeetingParams(ScheduleParams):
    pass


async def schedule_meeting(ctx: RuleContext, params: ScheduleMeetingParams) -> RuleResult:
    return await schedule(ctx, "meeting", params)


RULE = RuleType(
    kind="schedule_meeting",
    title="Schedule meeting",
    description="plans a meeting, listed among the order's activities",
    params=ScheduleMeetingParams,
    run=schedule_meeting,
)
