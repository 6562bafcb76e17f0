from pydantic import Field

from activities.rules.base import RuleContext, RuleType, shorten
from automation.delays import Delay
from automation.rules import RuleParams, RuleResult
from automation.templating import Template
from store.tables import Notification


class WaitParams(RuleParams):
    timeout: Delay | None = Field(
        default=None, description="give up waiting then (after 3d, at a time, or at a date field)"
    )
    notify_text: Template = Field(
        default="Order {{ order.number or order.id }}: {{ wait.reason }}",
        max_length=1000,
        description="what the responsible employee is told when the wait ends",
    )


async def wait(ctx: RuleContext, params: WaitParams) -> RuleResult:
    # The waiting itself is durable workflow state; this activity runs when it ends.
    if ctx.responsible_id is None:
        return RuleResult(summary="wait ended; no responsible employee to notify", effective=False)
    employee = await ctx.employee(ctx.responsible_id)
    text = await ctx.render(params.notify_text)
    await ctx.write_once(Notification(run_key=ctx.run_key, order_id=ctx.order_id, employee_id=employee.id, text=text))
    return RuleResult(summary=f"wait ended; notified {employee.name}: {shorten(text)}")


RULE = RuleType(
    kind="wait",
    title="Wait",
    description="holds its chain until any customer activity or a deadline, then notifies the responsible",
    params=WaitParams,
    run=wait,
    holds_branch=True,
)
