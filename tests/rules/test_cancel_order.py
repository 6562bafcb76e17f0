from sqlmodel import select

from activities.rules.base import WorkerResources
from automation.effects import MoveOrder
from automation.rule_kinds.cancel_order import CancelOrderParams
from store.database import session
from store.tables import Shipment
from store.tables_shipments import ShipmentMark
from tests.rules.conftest import RunRule


async def test_cancels_every_shipment_and_moves_to_the_failure_stage(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    async with session(rule_deps.engine) as db:
        db.add(Shipment(id="s1", order_id="O-1", status="packed"))
        db.add(Shipment(id="s2", order_id="O-1", status="cancelled"))
        await db.commit()

    result = await run_rule("cancel_order", {}, run_key="O-1/1/0")
    retried = await run_rule("cancel_order", {}, run_key="O-1/1/0")

    assert result.effect == MoveOrder(stage="cancelled")
    assert [(e.type, e.data) for e in result.events] == [
        ("shipment_changed", {"shipment_id": "s1", "status": "cancelled", "delivery_service": None,
                              "tracking_number": None}),
    ]  # fmt: skip
    assert result.summary == "order cancelled, moves to 'cancelled'; 2 shipment(s) marked cancelled"
    assert retried == result
    async with session(rule_deps.engine) as db:
        statuses = {s.id: s.status for s in await db.exec(select(Shipment))}
        marks = sorted((m.shipment_id, m.mark) for m in await db.exec(select(ShipmentMark)))
    assert statuses == {"s1": "cancelled", "s2": "cancelled"}
    assert marks == [("s1", "cancelled"), ("s2", "cancelled")]


async def test_an_order_without_shipments_is_still_cancelled_to_the_named_stage(run_rule: RunRule) -> None:
    result = await run_rule("cancel_order", {"stage": "lost"})

    assert result.effect == MoveOrder(stage="lost")
    assert result.events == []


def test_the_stage_is_checked_against_the_pipeline() -> None:
    assert CancelOrderParams(stage="lost").stage_references() == ["lost"]
    assert CancelOrderParams().stage_references() == ["cancelled"]
