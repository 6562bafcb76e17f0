from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules.base import RuleContext, once
from automation.rule_kinds.set_shipment_status import SetShipmentStatusParams
from automation.rules import RaisedEvent, RuleResult
from store.tables import Shipment


def _events(shipments: list[Shipment], status: str) -> list[RaisedEvent]:
    events = [
        RaisedEvent(type="shipment_changed", data={"shipment_id": s.id, "status": s.status,
                    "delivery_service": s.delivery_service, "tracking_number": s.tracking_number})
        for s in shipments
    ]  # fmt: skip
    if status == "shipped":
        events += [RaisedEvent(type="shipped", data={"shipment_id": s.id}) for s in shipments]
    return events


async def run(ctx: RuleContext, params: SetShipmentStatusParams) -> RuleResult:
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
