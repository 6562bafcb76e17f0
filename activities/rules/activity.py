from activities.rules._order_activity import add_order_activity
from activities.rules.base import RuleContext
from automation.rule_kinds.activity import ActivityParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: ActivityParams) -> RuleResult:
    return await add_order_activity(
        ctx,
        "todo",
        subject=params.subject,
        description=params.description,
        assignee_id=params.assignee_id,
        due_in=params.due_in,
    )
