from pydantic import Field

from activities.rules._notify import notify
from activities.rules.base import RESPONSIBLE, RuleContext, RuleType
from automation.models import LooseId
from automation.rules import RuleParams, RuleResult
from automation.templating import Template


class ControlParams(RuleParams):
    employee_id: LooseId = Field(default=RESPONSIBLE, description="who is notified; 'responsible' = the order's")
    text: Template = Field(min_length=1, max_length=1000)


async def control(ctx: RuleContext, params: ControlParams) -> RuleResult:
    return await notify(ctx, params.employee_id, params.text)


RULE = RuleType(
    kind="control",
    title="Control",
    description="notifies a chosen employee (from the automation; Notification also sets the sender)",
    params=ControlParams,
    run=control,
)
