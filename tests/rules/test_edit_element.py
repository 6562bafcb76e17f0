from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from activities.rules.base import WorkerResources
from store.database import session
from store.tables import Order
from tests.rules.conftest import RunRule


async def stored_fields(engine: AsyncEngine) -> dict[str, Any] | None:
    async with session(engine) as db:
        order = await db.get(Order, "O-1")
    return order.fields if order is not None else None


async def test_sets_fields_in_the_store_and_hands_them_back(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    params = {"fields": {"note": "for {{ customer.first_name }}, order {{ order.number }}", "total": 99.5, "vip": True}}

    result = await run_rule("edit_element", params)

    expected = {"note": "for Ada, order N-1", "total": 99.5, "vip": True}
    assert result.order_changes == expected
    assert await stored_fields(rule_deps.engine) == {"number": "N-1", **expected}
    assert result.effective and "note='for Ada, order N-1'" in result.summary


async def test_setting_again_is_the_same_order(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    params = {"fields": {"number": "N-2", "priority": 3}}
    first = await run_rule("edit_element", params, run_key="O-1/1/0")
    retried = await run_rule("edit_element", params, run_key="O-1/1/0")

    assert retried == first
    assert await stored_fields(rule_deps.engine) == {"number": "N-2", "priority": 3}


async def test_reserved_names_are_refused_at_load_naming_them(run_rule: RunRule) -> None:
    with pytest.raises(ValidationError) as refused:
        await run_rule("edit_element", {"fields": {"stage": "paid", "note": "x", "responsible_id": "emp-manager"}})
    assert "'stage', 'responsible_id': reserved by the engine" in str(refused.value)


async def test_an_order_not_stored_yet_still_gets_the_changes(run_rule: RunRule, rule_deps: WorkerResources) -> None:
    async with session(rule_deps.engine) as db:
        await db.delete(await db.get(Order, "O-1"))
        await db.commit()

    result = await run_rule("edit_element", {"fields": {"note": "hello"}})

    assert result.order_changes == {"note": "hello"}
    assert await stored_fields(rule_deps.engine) is None  # the workflow stores its own copy
