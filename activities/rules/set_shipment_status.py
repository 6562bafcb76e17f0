from pydantic import Field
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules.base import RuleContext, RuleType, once
from automation.rules import RaisedEvent, RuleParams, RuleResult
from store.tables import Shipment


class SetShipmentStatusParams(RuleParams):
    status: str = Field(min_length=1, max_length=50, description="e.g. packed, shipped, delivered")


def _events(shipments: list[Shipment], status: str) -> list[RaisedEvent]:
    events = [
        RaisedEvent(type="shipment_changed", data={"shipment_id": s.id, "status": s.status,
                    "delivery_service": s.delivery_service, "tracking_number": s.tracking_number})
        for s in shipments
    ]  # fmt: skip
    if status == "shipped":
        events += [RaisedEvent(type="shipped", data={"shipment_id": s.id}) for s in shipments]
    return events


async def set_shipment_status(ctx: RuleContext, params: SetShipmentStatusParams) -> RuleResult:
    async def act(db: AsyncSession) -> RuleResult:
        shipments = list(await db.exec(select(Shipment).where(Shipment.order_id == ctx.order_id)))
        changed = [s for s in shipments if s.status != params.status]
        for shipment in changed:
            shipment.status = params.status
            db.add(shipment)
        if not changed:
            return RuleResult(summary=f"every shipment is already {params.status!r}", effective=False)
        summary = f"{len(changed)} shipment(s) now {params.status!r}"
        return RuleResult(summary=summary, events=_events(changed, params.status))

    return await once(ctx, act)  # a retry after the commit: the same answer, the same events


RULE = RuleType(
    kind="set_shipment_status",
    title="Set shipment status",
    description="sets the status of every shipment of the order; fires Shipment status updated (and Shipment)",
    params=SetShipmentStatusParams,
    run=set_shipment_status,
)
