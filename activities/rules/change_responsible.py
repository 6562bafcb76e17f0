from activities.rules.base import RuleContext
from automation.rule_kinds.change_responsible import ChangeResponsibleParams
from automation.rules import RaisedEvent, RuleResult
from store.columns import utcnow
from store.database import session
from store.tables import Order


async def run(ctx: RuleContext, params: ChangeResponsibleParams) -> RuleResult:
    employee = await ctx.employee(params.employee_id)
    if employee.id == ctx.responsible_id:
        return RuleResult(summary=f"{employee.name} is already responsible", effective=False)
    async with session(ctx.deps.engine) as db:
        order = await db.get(Order, ctx.order_id)
        if order is not None:  # the order's row may not be flushed yet; the workflow sets it then
            order.responsible_id, order.updated_at = employee.id, utcnow()
            db.add(order)
            await db.commit()
    return RuleResult(
        summary=f"responsible is now {employee.name}",
        order_changes={"responsible_id": employee.id},
        events=[
            RaisedEvent(
                type="responsible_changed", data={"previous_id": ctx.responsible_id, "responsible_id": employee.id}
            )
        ],
    )
