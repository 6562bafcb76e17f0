from pydantic import Field

from activities.rules.base import RuleContext, RuleType
from automation.models import LooseId
from automation.rules import RaisedEvent, RuleParams, RuleResult
from store.columns import utcnow
from store.database import session
from store.tables import Order


class ChangeResponsibleParams(RuleParams):
    employee_id: LooseId = Field(min_length=1, description="the new responsible employee")


async def change_responsible(ctx: RuleContext, params: ChangeResponsibleParams) -> RuleResult:
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


RULE = RuleType(
    kind="change_responsible",
    title="Change responsible",
    description="changes the order's responsible employee",
    params=ChangeResponsibleParams,
    run=change_responsible,
)
