from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from activities.rules.base import WorkerResources
from automation.effects import EndOrder
from store.database import session
from store.tables import Comment, Order, Shipment
from store.tables_shipments import DeletedOrder
from tests.rules.conftest import RunRule


async def add_shipments(engine: AsyncEngine) -> None:
    async with session(engine) as db:
        db.add(Shipment(id="s1", order_id="O-1"))
        db.add(Shipment(id="s2", order_id="O-1"))
        db.add(Shipment(id="s1", order_id="O-2"))
        db.add(Order(id="O-2", pipeline_id="p", stage="new"))  # O-1 is the store fixture's
        for order_id in ("O-1", "O-2"):
            db.add(Comment(run_key=f"{order_id}/0/0", order_id=order_id, text="a comment"))
        await db.commit()


async def store_state(engine: AsyncEngine) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    async with session(engine) as db:
        shipments = sorted((s.order_id, s.id) for s in await db.exec(select(Shipment)))
        deleted = [(d.order_id, d.run_key) for d in await db.exec(select(DeletedOrder))]
    return shipments, deleted


async def kept_orders_and_comments(engine: AsyncEngine) -> tuple[list[str], list[str]]:
    async with session(engine) as db:
        orders = sorted(o.id for o in await db.exec(select(Order)))
        comments = sorted(c.order_id for c in await db.exec(select(Comment)))
    return orders, comments


async def test_deletes_an_unpaid_order_and_ends_it(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    await add_shipments(rule_deps.engine)

    result = await run_rule("delete_order", {}, run_key="O-1/1/0")
    retried = await run_rule("delete_order", {}, run_key="O-1/1/0")
    later = await run_rule("delete_order", {})

    assert (result.effect, result.effective) == (EndOrder(), True)
    assert result.summary == "order deleted, unpaid (2 shipment(s) removed)"
    assert await store_state(rule_deps.engine) == ([("O-2", "s1")], [("O-1", "O-1/1/0")])
    assert await kept_orders_and_comments(rule_deps.engine) == (["O-2"], ["O-2"])
    assert retried == result
    assert (later.effect, later.effective, later.summary) == (EndOrder(), False, "the order was already deleted")


async def test_an_order_paid_by_pay_order_is_kept(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    await add_shipments(rule_deps.engine)
    await run_rule("pay_order", {})

    result = await run_rule("delete_order", {})

    assert (result.effect, result.effective, result.summary) == (None, False, "not deleted: the order is paid")
    assert await store_state(rule_deps.engine) == ([("O-1", "s1"), ("O-1", "s2"), ("O-2", "s1")], [])
    assert await kept_orders_and_comments(rule_deps.engine) == (["O-1", "O-2"], ["O-1", "O-2"])


async def test_an_order_the_workflow_knows_as_paid_is_kept(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    await add_shipments(rule_deps.engine)

    result = await run_rule("delete_order", {}, order={"paid": True})

    assert (result.effect, result.effective) == (None, False)
    assert (await store_state(rule_deps.engine))[1] == []
