from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules._shipments import mark_shipments, marked_summary
from activities.rules.base import RuleContext, once
from automation.effects import MoveOrder
from automation.rule_kinds.cancel_order import CancelOrderParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: CancelOrderParams) -> RuleResult:
    async def act(db: AsyncSession) -> RuleResult:
        marked = await mark_shipments(db, ctx, "cancelled", status="cancelled")
        # "Order cancelled" is the workflow's to fire, as for any move to a failure stage.
        return RuleResult(
            summary=f"order cancelled, moves to {params.stage!r}; {marked_summary(marked, 'cancelled')}",
            events=marked.events(),
            effect=MoveOrder(stage=params.stage),
        )

    return await once(ctx, act)
