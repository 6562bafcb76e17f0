from activities.rules._notify import notify
from activities.rules.base import RuleContext
from automation.rule_kinds.notification import NotificationParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: NotificationParams) -> RuleResult:
    return await notify(ctx, params.employee_id, params.text, sender_id=params.sender_id)
