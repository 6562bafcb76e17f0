import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import Shipment
from tests.rules.conftest import RunRule


async def add_shipments(engine: AsyncEngine, *shipments: Shipment) -> None:
    async with session(engine) as db:
        db.add_all(shipments)
        await db.commit()


async def shipments(engine: AsyncEngine) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    async with session(engine) as db:
        rows = await db.exec(select(Shipment))
        return {(s.order_id, s.id): (s.delivery_service, s.tracking_number) for s in rows}


async def test_sets_every_shipment_of_the_order_and_fires_for_what_changed_once(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    await add_shipments(
        rule_deps.engine,
        Shipment(id="s1", order_id="O-1", status="packed", delivery_service="ups"),
        Shipment(id="s2", order_id="O-1", delivery_service="ups", tracking_number="OLD"),
        Shipment(id="s3", order_id="O-1", delivery_service="dhl", tracking_number="T-N-1"),
        Shipment(id="s1", order_id="O-2", delivery_service="ups"),
    )
    params = {"delivery_service": "dhl", "tracking_number": "T-{{ order.number }}"}

    result = await run_rule("edit_shipments", params, run_key="O-1/1/0")

    assert await shipments(rule_deps.engine) == {
        ("O-1", "s1"): ("dhl", "T-N-1"),
        ("O-1", "s2"): ("dhl", "T-N-1"),
        ("O-1", "s3"): ("dhl", "T-N-1"),
        ("O-2", "s1"): ("ups", None),
    }
    assert [(e.type, e.data["shipment_id"]) for e in result.events] == [
        ("shipment_changed", "s1"),
        ("tracking_number_added", "s1"),
        ("shipment_changed", "s2"),
        ("tracking_number_added", "s2"),
    ]
    assert result.events[1].data == {
        "shipment_id": "s1", "status": "packed", "delivery_service": "dhl", "tracking_number": "T-N-1"
    }  # fmt: skip
    assert result.summary == "2 shipment(s) now have delivery_service 'dhl', tracking_number 'T-N-1'"

    # A retry after the commit finds the run's memo: it edits nothing again, answers the same.
    async with session(rule_deps.engine) as db:
        s1 = (await db.exec(select(Shipment).where(Shipment.order_id == "O-1", Shipment.id == "s1"))).one()
        s1.tracking_number = "CHANGED-SINCE"
        db.add(s1)
        await db.commit()
    retried = await run_rule("edit_shipments", params, run_key="O-1/1/0")
    assert retried == result
    assert (await shipments(rule_deps.engine))[("O-1", "s1")] == ("dhl", "CHANGED-SINCE")


async def test_the_delivery_service_alone_adds_no_tracking_number(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    await add_shipments(rule_deps.engine, Shipment(id="s1", order_id="O-1", tracking_number="1Z"))

    result = await run_rule("edit_shipments", {"delivery_service": "fedex"})

    assert [e.type for e in result.events] == ["shipment_changed"]
    assert await shipments(rule_deps.engine) == {("O-1", "s1"): ("fedex", "1Z")}


async def test_nothing_to_change_is_no_effect(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    await add_shipments(rule_deps.engine, Shipment(id="s1", order_id="O-1", delivery_service="dhl"))

    same = await run_rule("edit_shipments", {"delivery_service": "dhl"})
    empty = await run_rule("edit_shipments", {"tracking_number": "{{ variables.tracking }}"})

    assert (same.effective, same.events) == (False, [])
    assert (empty.effective, empty.events) == (False, [])
    assert await shipments(rule_deps.engine) == {("O-1", "s1"): ("dhl", None)}


async def test_at_least_one_field_is_required(run_rule: RunRule) -> None:
    with pytest.raises(ValidationError, match="set delivery_service, tracking_number or both"):
        await run_rule("edit_shipments", {})
