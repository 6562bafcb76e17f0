from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import Shipment
from store.tables_shipments import ShipmentMark
from tests.rules.conftest import RunRule


async def marks(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    async with session(engine) as db:
        return sorted((m.order_id, m.shipment_id, m.mark) for m in await db.exec(select(ShipmentMark)))


async def test_approves_delivery_of_every_shipment_once(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    async with session(rule_deps.engine) as db:
        db.add(Shipment(id="s1", order_id="O-1", status="packed", delivery_service="dhl"))
        db.add(Shipment(id="s2", order_id="O-1"))
        db.add(Shipment(id="s9", order_id="O-2"))
        await db.commit()

    result = await run_rule("allow_delivery", {}, run_key="O-1/1/0")
    retried = await run_rule("allow_delivery", {}, run_key="O-1/1/0")
    again = await run_rule("allow_delivery", {})

    assert await marks(rule_deps.engine) == [("O-1", "s1", "delivery_approved"), ("O-1", "s2", "delivery_approved")]
    assert [(e.type, e.data) for e in result.events] == [
        ("delivery_approved", {"shipment_id": "s1", "status": "packed", "delivery_service": "dhl",
                               "tracking_number": None}),
        ("delivery_approved", {"shipment_id": "s2", "status": "new", "delivery_service": None,
                               "tracking_number": None}),
    ]  # fmt: skip
    assert result.summary == "2 shipment(s) marked delivery approved"
    assert retried == result
    assert (again.effective, again.events) == (False, [])
    async with session(rule_deps.engine) as db:
        assert {s.id: s.status for s in await db.exec(select(Shipment))} == {"s1": "packed", "s2": "new", "s9": "new"}
