from pydantic import Field

from activities.rules._order_activity import add_order_activity
from activities.rules.base import RESPONSIBLE, RuleContext, RuleType
from automation.delays import Duration
from automation.models import LooseId
from automation.rules import RuleParams, RuleResult
from automation.templating import Template


class ActivityParams(RuleParams):
    subject: Template = Field(min_length=1, max_length=255)
    description: Template = Field(default="", max_length=5000)
    assignee_id: LooseId = Field(default=RESPONSIBLE, description="who does it; 'responsible' = the order's")
    due_in: Duration | None = Field(default=None, description="deadline, counted from creation, e.g. 1d")


async def activity(ctx: RuleContext, params: ActivityParams) -> RuleResult:
    return await add_order_activity(
        ctx,
        "todo",
        subject=params.subject,
        description=params.description,
        assignee_id=params.assignee_id,
        due_in=params.due_in,
    )


RULE = RuleType(
    kind="activity",
    title="Activity",
    description="adds an activity (to-do) to the order",
    params=ActivityParams,
    run=activity,
)
