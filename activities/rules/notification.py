from pydantic import Field

from activities.rules._notify import notify
from activities.rules.base import RESPONSIBLE, RuleContext, RuleType
from automation.models import LooseId
from automation.rules import RuleParams, RuleResult
from automation.templating import Template


class NotificationParams(RuleParams):
    employee_id: LooseId = Field(default=RESPONSIBLE, description="who is notified; 'responsible' = the order's")
    sender_id: LooseId | None = Field(default=None, description="employee shown as sender; empty = automation")
    text: Template = Field(min_length=1, max_length=1000)


async def notification(ctx: RuleContext, params: NotificationParams) -> RuleResult:
    return await notify(ctx, params.employee_id, params.text, sender_id=params.sender_id)


RULE = RuleType(
    kind="notification",
    title="Notification",
    description="notifies an employee, from a chosen sender",
    params=NotificationParams,
    run=notification,
)
