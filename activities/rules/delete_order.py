from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules._shipments import is_paid, order_shipments
from activities.rules.base import RuleContext, once
from automation.effects import EndOrder
from automation.rule_kinds.delete_order import DeleteOrderParams
from automation.rules import RuleResult
from store.tables import Comment, Document, Order, Shipment, Task
from store.tables_people import OrderActivity
from store.tables_shipments import DeletedOrder, ShipmentMark

ORDER_PARTS: tuple[type[Shipment | ShipmentMark | Comment | Document | OrderActivity | Task], ...] = (
    Shipment, ShipmentMark, Comment, Document, OrderActivity, Task,
)  # fmt: skip
"""Deleted with the order. Kept: the timeline, the automation log, the messages sent and
the notifications given (what happened), and the tombstone that ends the workflow."""


async def run(ctx: RuleContext, params: DeleteOrderParams) -> RuleResult:
    async def act(db: AsyncSession) -> RuleResult:
        # is_paid locks the order's row first: a Pay order running beside this waits for it.
        if await is_paid(db, ctx):
            return RuleResult(summary="not deleted: the order is paid", effective=False)
        if await db.get(DeletedOrder, ctx.order_id) is not None:
            return RuleResult(summary="the order was already deleted", effective=False, effect=EndOrder())
        shipments = len(await order_shipments(db, ctx.order_id))
        for part in ORDER_PARTS:
            await db.exec(delete(part).where(col(part.order_id) == ctx.order_id))
        await db.exec(delete(Order).where(col(Order.id) == ctx.order_id))
        db.add(DeletedOrder(order_id=ctx.order_id, run_key=ctx.run_key))
        return RuleResult(summary=f"order deleted, unpaid ({shipments} shipment(s) removed)", effect=EndOrder())

    return await once(ctx, act)
