from sqlmodel import select

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import Shipment
from tests.rules.conftest import RunRule


async def test_sets_every_shipment_and_fires_their_triggers_once(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    async with session(rule_deps.engine) as db:
        db.add(Shipment(id="s1", order_id="O-1", status="packed", delivery_service="ups", tracking_number="1Z"))
        db.add(Shipment(id="s2", order_id="O-1", status="shipped"))
        await db.commit()

    result = await run_rule("set_shipment_status", {"status": "shipped"}, run_key="O-1/1/0")
    retried = await run_rule("set_shipment_status", {"status": "shipped"}, run_key="O-1/1/0")

    async with session(rule_deps.engine) as db:
        statuses = {s.id: s.status for s in await db.exec(select(Shipment).where(Shipment.order_id == "O-1"))}
    assert statuses == {"s1": "shipped", "s2": "shipped"}
    assert [(e.type, e.data["shipment_id"]) for e in result.events] == [("shipment_changed", "s1"), ("shipped", "s1")]
    assert result.events[0].data == {"shipment_id": "s1", "status": "shipped", "delivery_service": "ups",
                                     "tracking_number": "1Z"}  # fmt: skip
    assert retried == result


async def test_nothing_to_change_is_no_effect(run_rule: RunRule) -> None:
    result = await run_rule("set_shipment_status", {"status": "delivered"})
    assert not result.effective
    assert result.events == []
