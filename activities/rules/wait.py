from activities.rules.base import RuleContext, shorten
from automation.rule_kinds.wait import WaitParams
from automation.rules import RuleResult
from store.tables import Notification


async def run(ctx: RuleContext, params: WaitParams) -> RuleResult:
    # The waiting itself is durable workflow state; this activity runs when it ends.
    if ctx.responsible_id is None:
        return RuleResult(summary="wait ended; no responsible employee to notify", effective=False)
    employee = await ctx.employee(ctx.responsible_id)
    text = await ctx.render(params.notify_text)
    await ctx.write_once(Notification(run_key=ctx.run_key, order_id=ctx.order_id, employee_id=employee.id, text=text))
    return RuleResult(summary=f"wait ended; notified {employee.name}: {shorten(text)}")
