from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import Shipment
from store.tables_shipments import ShipmentMark
from tests.rules.conftest import RunRule


async def add_shipments(engine: AsyncEngine, *shipments: Shipment) -> None:
    async with session(engine) as db:
        db.add_all(shipments)
        await db.commit()


async def statuses(engine: AsyncEngine) -> dict[tuple[str, str], str]:
    async with session(engine) as db:
        return {(s.order_id, s.id): s.status for s in await db.exec(select(Shipment))}


async def test_ships_every_shipment_of_the_order_once(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    await add_shipments(
        rule_deps.engine,
        Shipment(id="s1", order_id="O-1", status="packed", tracking_number="1Z"),
        Shipment(id="s2", order_id="O-1", status="shipped"),
        Shipment(id="s1", order_id="O-2", status="packed"),
    )

    result = await run_rule("ship_order", {}, run_key="O-1/1/0")
    retried = await run_rule("ship_order", {}, run_key="O-1/1/0")

    assert await statuses(rule_deps.engine) == {("O-1", "s1"): "shipped", ("O-1", "s2"): "shipped",
                                                ("O-2", "s1"): "packed"}  # fmt: skip
    assert [(e.type, e.data["shipment_id"]) for e in result.events] == [
        ("shipment_changed", "s1"),  # only s1's status changed
        ("shipped", "s1"),
        ("shipped", "s2"),
    ]
    assert result.events[1].data == {"shipment_id": "s1", "status": "shipped", "delivery_service": None,
                                     "tracking_number": "1Z"}  # fmt: skip
    assert retried == result
    async with session(rule_deps.engine) as db:
        marks = [(m.shipment_id, m.mark, m.run_key) for m in await db.exec(select(ShipmentMark))]
    assert sorted(marks) == [("s1", "shipped", "O-1/1/0"), ("s2", "shipped", "O-1/1/0")]


async def test_shipping_again_does_not_undo_a_later_status(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    await add_shipments(rule_deps.engine, Shipment(id="s1", order_id="O-1"))
    await run_rule("ship_order", {})
    await run_rule("set_shipment_status", {"status": "delivered"})

    again = await run_rule("ship_order", {})

    assert (again.effective, again.events, again.summary) == (False, [], "no shipment left to mark shipped")
    assert await statuses(rule_deps.engine) == {("O-1", "s1"): "delivered"}
