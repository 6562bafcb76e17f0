from typing import Any

from sqlalchemy import bindparam, delete, exists, insert, select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.rules._shipments import marked_paid
from activities.rules.base import RuleContext, once
from automation.effects import EndOrder
from automation.rule_kinds.delete_order import DeleteOrderParams
from automation.rules import RuleResult
from store.columns import utcnow
from store.tables import Comment, Document, Order, Shipment, Task
from store.tables_people import OrderActivity
from store.tables_shipments import DeletedOrder, ShipmentMark

ORDER_PARTS: tuple[type[Shipment | ShipmentMark | Comment | Document | OrderActivity | Task], ...] = (
    Shipment, ShipmentMark, Comment, Document, OrderActivity, Task,
)  # fmt: skip
"""Deleted with the order. Kept: the timeline, the automation log, the messages sent and
the notifications given (what happened), and the tombstone that ends the workflow."""

# Most orders deleted have few parts, often none: one statement finds which of its parts
# have rows, and only those are deleted. Each statement is built once, in Core, so that
# SQLAlchemy compiles it once.
_PARTS: dict[str, Any] = {part.__tablename__: part.__table__ for part in ORDER_PARTS}  # type: ignore[union-attr]
_ORDERS: Any = Order.__table__  # type: ignore[attr-defined]
_MARKS: Any = ShipmentMark.__table__  # type: ignore[attr-defined]
_TOMBSTONES: Any = DeletedOrder.__table__  # type: ignore[attr-defined]
_ORDER_ID: Any = bindparam("order_id")


def _any(table: Any, *where: Any) -> Any:
    return exists().where(table.c.order_id == _ORDER_ID, *where)


_LOCKED = select(_ORDERS.c.fields).where(_ORDERS.c.id == _ORDER_ID).with_for_update()
"""The order's stored fields, its row locked (PostgreSQL): a Pay order running beside this
waits for it, and one that held it first has committed before the next statement looks."""
_FOUND = select(
    *(_any(table).label(name) for name, table in _PARTS.items()),
    _any(_MARKS, _MARKS.c.mark == "paid").label("paid"),
    _any(_TOMBSTONES).label("deleted"),
)
"""Which of the order's parts have rows (by table name), whether a shipment is marked paid,
whether it was deleted."""
_DELETE = {name: delete(table).where(table.c.order_id == _ORDER_ID) for name, table in _PARTS.items()}
_DELETE_SHIPMENTS = _DELETE["shipments"].returning(_PARTS["shipments"].c.order_id)
_DELETE_ORDER = delete(_ORDERS).where(_ORDERS.c.id == _ORDER_ID)


async def run(ctx: RuleContext, params: DeleteOrderParams) -> RuleResult:
    async def act(db: AsyncSession) -> RuleResult:
        connection = await db.connection()
        key = {"order_id": ctx.order_id}
        stored = (await connection.execute(_LOCKED, key)).first()  # None: deleted, or not stored yet
        found = (await connection.execute(_FOUND, key)).one()._mapping
        if marked_paid(ctx, stored.fields if stored is not None else None) or found["paid"]:
            return RuleResult(summary="not deleted: the order is paid", effective=False)
        if found["deleted"]:
            return RuleResult(summary="the order was already deleted", effective=False, effect=EndOrder())
        shipments = len((await connection.execute(_DELETE_SHIPMENTS, key)).all()) if found["shipments"] else 0
        for name in _PARTS:  # in the order of ORDER_PARTS, the same in every run
            if name != "shipments" and found[name]:
                await connection.execute(_DELETE[name], key)
        await connection.execute(_DELETE_ORDER, key)
        await connection.execute(insert(_TOMBSTONES), {**key, "run_key": ctx.run_key, "deleted_at": utcnow()})
        return RuleResult(summary=f"order deleted, unpaid ({shipments} shipment(s) removed)", effect=EndOrder())

    return await once(ctx, act)
