from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules._shipments import order_shipments, shipment_event
from activities.rules.base import RuleContext, once, shorten
from automation.rule_kinds.edit_shipments import EditShipmentsParams
from automation.rules import RaisedEvent, RuleResult
from store.tables import Shipment


async def _wanted(ctx: RuleContext, params: EditShipmentsParams) -> dict[str, str]:
    """The shipment fields to set. A tracking number that renders empty (a variable not set
    yet) is left alone rather than erasing the one a shipment has."""
    wanted = {"delivery_service": params.delivery_service}
    if params.tracking_number is not None:
        wanted["tracking_number"] = (await ctx.render(params.tracking_number)).strip()
    return {name: value for name, value in wanted.items() if value}


def _edit(shipment: Shipment, wanted: dict[str, str]) -> list[RaisedEvent]:
    """Sets ``wanted`` on ``shipment``; the events of what changed (none: nothing did)."""
    if all(getattr(shipment, name) == value for name, value in wanted.items()):
        return []
    number_before = shipment.tracking_number
    for name, value in wanted.items():
        setattr(shipment, name, value)
    events = [shipment_event("shipment_changed", shipment)]
    if shipment.tracking_number != number_before:
        events.append(shipment_event("tracking_number_added", shipment))
    return events


async def run(ctx: RuleContext, params: EditShipmentsParams) -> RuleResult:
    wanted = await _wanted(ctx, params)
    if not wanted:
        return RuleResult(summary="the tracking number is empty: nothing to set", effective=False)
    shown = shorten(", ".join(f"{name} {value!r}" for name, value in wanted.items()))

    async def act(db: AsyncSession) -> RuleResult:
        events: list[RaisedEvent] = []
        changed = 0
        for shipment in await order_shipments(db, ctx.order_id):
            edited = _edit(shipment, wanted)
            if edited:
                db.add(shipment)
                events += edited
                changed += 1
        if not changed:
            return RuleResult(summary=f"every shipment already has {shown}", effective=False)
        return RuleResult(summary=f"{changed} shipment(s) now have {shown}", events=events)

    return await once(ctx, act)
