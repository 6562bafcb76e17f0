from pydantic import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules._shipments import mark_shipments, marked_summary
from activities.rules.base import RuleContext, RuleType, once
from automation.rules import RuleParams, RuleResult


class CancelOrderParams(RuleParams):
    stage: str = Field(default="cancelled", min_length=1, description="the failure stage to move the order to")

    def stage_references(self) -> list[str]:
        return [self.stage]


async def cancel_order(ctx: RuleContext, params: CancelOrderParams) -> RuleResult:
    async def act(db: AsyncSession) -> RuleResult:
        marked = await mark_shipments(db, ctx, "cancelled", status="cancelled")
        # "Order cancelled" is the workflow's to fire, as for any move to a failure stage.
        return RuleResult(
            summary=f"order cancelled, moves to {params.stage!r}; {marked_summary(marked, 'cancelled')}",
            events=marked.events(),
            move_to=params.stage,
        )

    return await once(ctx, act)


RULE = RuleType(
    kind="cancel_order",
    title="Cancel order",
    description="marks every shipment of the order cancelled and moves the order to a failure stage "
    "(which fires Order cancelled)",
    params=CancelOrderParams,
    run=cancel_order,
)
