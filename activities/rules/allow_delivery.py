from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules._shipments import mark_shipments, marked_summary
from activities.rules.base import RuleContext, once
from automation.rule_kinds.allow_delivery import AllowDeliveryParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: AllowDeliveryParams) -> RuleResult:
    async def act(db: AsyncSession) -> RuleResult:
        marked = await mark_shipments(db, ctx, "delivery_approved")
        return RuleResult(
            summary=marked_summary(marked, "delivery_approved"),
            effective=bool(marked.shipments),
            events=marked.events("delivery_approved"),
        )

    return await once(ctx, act)
