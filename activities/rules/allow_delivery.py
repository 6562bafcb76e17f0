from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules._shipments import mark_shipments, marked_summary
from activities.rules.base import RuleContext, RuleType, once
from automation.rules import RuleParams, RuleResult


class AllowDeliveryParams(RuleParams):
    pass


async def allow_delivery(ctx: RuleContext, params: AllowDeliveryParams) -> RuleResult:
    async def act(db: AsyncSession) -> RuleResult:
        marked = await mark_shipments(db, ctx, "delivery_approved")
        return RuleResult(
            summary=marked_summary(marked, "delivery_approved"),
            effective=bool(marked.shipments),
            events=marked.events("delivery_approved"),
        )

    return await once(ctx, act)


RULE = RuleType(
    kind="allow_delivery",
    title="Allow delivery",
    description="marks delivery approved on every shipment of the order; fires Delivery approved for each",
    params=AllowDeliveryParams,
    run=allow_delivery,
)
