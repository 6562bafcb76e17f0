"""The order's shipments, shared by the rules that change them (Edit shipments, Pay / Ship /
Cancel order, Allow delivery, Delete order)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules._order_fields import lock_order
from activities.rules.base import RuleContext, once
from automation.events import ShipmentData
from automation.rules import RaisedEvent, RuleResult
from store.tables import Shipment
from store.tables_shipments import ShipmentMark

Mark = Literal["paid", "shipped", "cancelled", "delivery_approved"]


async def order_shipments(db: AsyncSession, order_id: str) -> list[Shipment]:
    query = select(Shipment).where(Shipment.order_id == order_id).order_by(col(Shipment.id))
    return list(await db.exec(query))


def shipment_event(type: str, shipment: Shipment) -> RaisedEvent:
    """An event about ``shipment``, its data as the Shipment event types carry it."""
    data = ShipmentData(
        shipment_id=shipment.id,
        status=shipment.status,
        delivery_service=shipment.delivery_service,
        tracking_number=shipment.tracking_number,
    )
    return RaisedEvent(type=type, data=data.model_dump())


@dataclass
class Marked:
    """Shipments newly given a mark, and those of them whose status that changed."""

    shipments: list[Shipment] = field(default_factory=list)
    status_changed: list[Shipment] = field(default_factory=list)

    def events(self, per_shipment: str | None = None) -> list[RaisedEvent]:
        """Shipment status updated for each status changed, then ``per_shipment`` (if any)
        for each shipment marked."""
        changed = [shipment_event("shipment_changed", s) for s in self.status_changed]
        return changed + [shipment_event(per_shipment, s) for s in self.shipments if per_shipment]


async def mark_shipments(db: AsyncSession, ctx: RuleContext, mark: Mark, status: str | None = None) -> Marked:
    """Gives every shipment of the order ``mark`` (and ``status``, if given), in ``db``, not
    committed. A shipment marked before, by any run, is left as it is: shipping it again
    must not undo a later "delivered"."""
    marked = Marked()
    query = select(ShipmentMark.shipment_id).where(ShipmentMark.order_id == ctx.order_id, ShipmentMark.mark == mark)
    before = set(await db.exec(query))
    # A run racing this one for the same mark fails at commit on the unique (order, shipment,
    # mark); its retry then finds the marks. (insert_once cannot tell here: on PostgreSQL its
    # rowcount is -1 for tables with a generated id.)
    for shipment in await order_shipments(db, ctx.order_id):
        if shipment.id in before:
            continue
        db.add(ShipmentMark(run_key=ctx.run_key, order_id=ctx.order_id, shipment_id=shipment.id, mark=mark))
        marked.shipments.append(shipment)
        if status is not None and shipment.status != status:
            shipment.status = status
            db.add(shipment)
            marked.status_changed.append(shipment)
    return marked


async def mark_every_shipment(ctx: RuleContext, mark: Mark, status: str | None = None) -> RuleResult:
    """Allow delivery and Ship order: every shipment of the order gets ``mark`` (and
    ``status``) once, with the event of that mark for each; a retry answers the same."""

    async def act(db: AsyncSession) -> RuleResult:
        marked = await mark_shipments(db, ctx, mark, status=status)
        return RuleResult(
            summary=marked_summary(marked, mark), effective=bool(marked.shipments), events=marked.events(mark)
        )

    return await once(ctx, act)


def marked_summary(marked: Marked, mark: Mark) -> str:
    done = mark.replace("_", " ")
    if not marked.shipments:
        return f"no shipment left to mark {done}"
    return f"{len(marked.shipments)} shipment(s) marked {done}"


def marked_paid(ctx: RuleContext, stored_fields: dict[str, Any] | None) -> bool:
    """Whether the order's ``paid`` field is set, in the workflow's copy or the stored row.
    Anything truthy counts: when in doubt, the order is treated as paid and kept."""
    return bool(ctx.values.get("order", {}).get("paid") or (stored_fields or {}).get("paid"))


async def is_paid(db: AsyncSession, ctx: RuleContext) -> bool:
    """Whether the order is paid: a shipment marked paid, or its ``paid`` field set
    (``marked_paid``; the stored row is locked until commit)."""
    order = await lock_order(db, ctx.order_id)
    if marked_paid(ctx, order.fields if order is not None else None):
        return True
    query = select(ShipmentMark).where(ShipmentMark.order_id == ctx.order_id, ShipmentMark.mark == "paid")
    return (await db.exec(query)).first() is not None
