from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules._shipments import mark_shipments, marked_summary
from activities.rules.base import RuleContext, once
from automation.rule_kinds.ship_order import ShipOrderParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: ShipOrderParams) -> RuleResult:
    async def act(db: AsyncSession) -> RuleResult:
        marked = await mark_shipments(db, ctx, "shipped", status="shipped")
        return RuleResult(
            summary=marked_summary(marked, "shipped"),
            effective=bool(marked.shipments),
            events=marked.events("shipped"),
        )

    return await once(ctx, act)
