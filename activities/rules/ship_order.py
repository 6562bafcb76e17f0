from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules._shipments import mark_shipments, marked_summary
from activities.rules.base import RuleContext, RuleType, once
from automation.rules import RuleParams, RuleResult


class ShipOrderParams(RuleParams):
    pass


async def ship_order(ctx: RuleContext, params: ShipOrderParams) -> RuleResult:
    async def act(db: AsyncSession) -> RuleResult:
        marked = await mark_shipments(db, ctx, "shipped", status="shipped")
        return RuleResult(
            summary=marked_summary(marked, "shipped"),
            effective=bool(marked.shipments),
            events=marked.events("shipped"),
        )

    return await once(ctx, act)


RULE = RuleType(
    kind="ship_order",
    title="Ship order",
    description="marks every shipment of the order shipped (status shipped); fires Shipment for each",
    params=ShipOrderParams,
    run=ship_order,
)
