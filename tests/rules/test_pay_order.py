import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import Order, Shipment
from store.tables_shipments import ShipmentMark
from tests.rules.conftest import RunRule


async def add_shipments(engine: AsyncEngine, *ids: str) -> None:
    async with session(engine) as db:
        db.add_all(Shipment(id=i, order_id="O-1") for i in ids)
        await db.commit()


async def marks(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    async with session(engine) as db:
        return sorted((m.order_id, m.shipment_id, m.mark) for m in await db.exec(select(ShipmentMark)))


async def test_marks_the_order_and_every_shipment_paid_and_fires_payment_once(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    await add_shipments(rule_deps.engine, "s1", "s2")
    order = {"total": 120.5, "currency": "USD"}

    result = await run_rule("pay_order", {}, run_key="O-1/1/0", order=order)
    retried = await run_rule("pay_order", {}, run_key="O-1/1/0", order=order)

    assert await marks(rule_deps.engine) == [("O-1", "s1", "paid"), ("O-1", "s2", "paid")]
    async with session(rule_deps.engine) as db:
        stored = await db.get(Order, "O-1")
    assert stored is not None
    assert stored.fields == {"number": "N-1", "paid": True}
    assert result.order_changes == {"paid": True}
    assert [(e.type, e.data) for e in result.events] == [
        ("payment", {"payment_id": None, "amount": 120.5, "currency": "USD"})
    ]
    assert result.summary == "paid 120.5 USD; 2 shipment(s) marked paid"
    assert retried == result


async def test_without_a_total_the_payment_is_zero_euros(run_rule: RunRule) -> None:
    result = await run_rule("pay_order", {})
    assert result.events[0].data == {"payment_id": None, "amount": 0.0, "currency": "EUR"}
    assert result.summary == "paid 0 EUR; no shipment left to mark paid"


async def test_a_paid_order_is_not_paid_again(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    await add_shipments(rule_deps.engine, "s1")
    await run_rule("pay_order", {}, order={"total": 10})
    await add_shipments(rule_deps.engine, "s2")  # a shipment added after the payment

    again = await run_rule("pay_order", {}, order={"total": 10})
    nothing_left = await run_rule("pay_order", {}, order={"total": 10})

    assert (again.effective, again.events) == (True, [])
    assert again.summary == "the order was already paid; 1 shipment(s) marked paid"
    assert (nothing_left.effective, nothing_left.events) == (False, [])
    assert await marks(rule_deps.engine) == [("O-1", "s1", "paid"), ("O-1", "s2", "paid")]


async def test_a_total_that_is_no_amount_is_refused_before_anything_is_written(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    await add_shipments(rule_deps.engine, "s1")
    with pytest.raises(ApplicationError) as refused:
        await run_rule("pay_order", {}, order={"total": "a lot"})
    assert refused.value.type == "RuleRefused"
    assert "amount" in str(refused.value)
    assert await marks(rule_deps.engine) == []
