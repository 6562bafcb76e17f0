from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import Order
from tests.rules.conftest import RunRule


async def set_stored_fields(engine: AsyncEngine, fields: dict[str, Any]) -> None:
    async with session(engine) as db:
        order = await db.get(Order, "O-1")
        assert order is not None
        order.fields = fields
        db.add(order)
        await db.commit()


async def stored_fields(engine: AsyncEngine) -> dict[str, Any]:
    async with session(engine) as db:
        order = await db.get(Order, "O-1")
    assert order is not None
    return order.fields


async def test_merges_into_the_details_the_order_has(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    await set_stored_fields(rule_deps.engine, {"number": "N-1", "details": {"city": "Paris", "zip": "75001"}})

    result = await run_rule("edit_details", {"details": {"street": "{{ customer.last_name }} Street", "zip": "75002"}})

    details = {"city": "Paris", "zip": "75002", "street": "Lovelace Street"}
    assert result.order_changes == {"details": details}
    assert await stored_fields(rule_deps.engine) == {"number": "N-1", "details": details}


async def test_an_order_without_details_gets_them_and_a_retry_changes_nothing(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    params = {"details": {"floor": 3, "gift": False}}
    first = await run_rule("edit_details", params, run_key="O-1/1/0")
    retried = await run_rule("edit_details", params, run_key="O-1/1/0")

    assert first.order_changes == {"details": {"floor": 3, "gift": False}}
    assert retried == first
    assert await stored_fields(rule_deps.engine) == {"number": "N-1", "details": {"floor": 3, "gift": False}}


async def test_without_a_stored_order_the_workflows_details_are_the_base(
    run_rule: RunRule, rule_deps: WorkerResources
) -> None:
    async with session(rule_deps.engine) as db:
        await db.delete(await db.get(Order, "O-1"))
        await db.commit()

    result = await run_rule("edit_details", {"details": {"zip": "10115"}}, order={"details": {"city": "Berlin"}})

    assert result.order_changes == {"details": {"city": "Berlin", "zip": "10115"}}
