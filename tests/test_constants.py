"""Constants an admin sets without editing the pipeline file: checked against the type the
file gives them, and read by a rule as they are when it runs."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.pipeline import parse_pipeline
from store.constants import ConstantRefused, list_constants, set_constant, unset_constant
from store.database import session
from store.tables import LogLine
from tests.conftest import running_engine, seed
from tests.helpers import eventually, payment, started_order

SHOP = parse_pipeline("""
id: shop
title: Shop
constants: {shop_name: Acme, free_over: 50, gift: false}
stages:
  - {id: new, title: New}
  - id: paid
    title: Paid
    triggers: [{type: payment}]
    rules:
      - {type: write_to_log, params: {message: "{{ constants.shop_name }} over {{ constants.free_over }}"}}
      - {type: write_to_log, condition: {field: constants.gift, op: "=", value: true}, params: {message: a gift}}
  - {id: done, title: Done, final: success}
""")


async def test_a_rule_reads_a_constant_as_an_admin_set_it_when_the_rule_runs(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    await seed(deps.engine, SHOP)
    async with running_engine(dev_env, deps) as engine:
        order = await started_order(engine.orders, "shop")  # it began with the file's values
        async with session(deps.engine) as db:
            await set_constant(db, "shop", "shop_name", "Acme Ltd", "user:ada")
            await db.commit()
        await engine.orders.apply_event(order.order_id, payment())
        assert await eventually(lambda: _logged(deps, order.order_id)) == ["Acme Ltd over 50"]


async def test_a_condition_reads_a_constant_as_an_admin_set_it_when_the_rule_is_due(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    await seed(deps.engine, SHOP)
    async with running_engine(dev_env, deps) as engine:
        order = await started_order(engine.orders, "shop")  # it began with gift false, as the file says
        async with session(deps.engine) as db:
            await set_constant(db, "shop", "gift", True, "user:ada")
            await db.commit()
        await engine.orders.apply_event(order.order_id, payment())
        assert sorted(await eventually(lambda: _logged(deps, order.order_id, least=2))) == ["Acme over 50", "a gift"]


GATED = parse_pipeline("""
id: gated
title: Gated shop
constants: {taking_payments: true}
stages:
  - {id: new, title: New}
  - id: paid
    title: Paid
    triggers: [{type: payment, condition: {field: constants.taking_payments, op: "=", value: true}}]
  - {id: done, title: Done, final: success}
""")


async def test_a_trigger_condition_reads_a_constant_as_an_admin_set_it_when_the_event_comes(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    await seed(deps.engine, GATED)
    async with running_engine(dev_env, deps) as engine:
        order = await started_order(engine.orders, "gated")
        async with session(deps.engine) as db:
            await set_constant(db, "gated", "taking_payments", False, "user:ada")
            await db.commit()
        refused = await engine.orders.apply_event(order.order_id, payment())
        assert (refused.stage, refused.message) == ("new", "no stage change")
        async with session(deps.engine) as db:
            await unset_constant(db, "gated", "taking_payments", "user:ada")
            await db.commit()
        taken = await engine.orders.apply_event(order.order_id, payment())
        assert taken.stage == "paid"


async def _logged(deps: WorkerResources, order_id: str, least: int = 1) -> list[str] | None:
    async with session(deps.engine) as db:
        query = select(LogLine.message).where(LogLine.order_id == order_id).order_by(col(LogLine.id))
        found = list((await db.exec(query)).all())
    return found if len(found) >= least else None


async def test_a_value_must_be_of_the_constants_type_and_the_constant_declared(any_engine: AsyncEngine) -> None:
    await seed(any_engine, SHOP)
    async with session(any_engine) as db:
        with pytest.raises(ConstantRefused, match=r"constant 'free_over': it is a number constant: 'many' is not"):
            await set_constant(db, "shop", "free_over", "many", "user:ada")
        with pytest.raises(ConstantRefused, match=r"declares no constant 'colour' \(it declares: free_over, gift"):
            await set_constant(db, "shop", "colour", "red", "user:ada")
        with pytest.raises(ConstantRefused, match="at most 2000 characters"):
            await set_constant(db, "shop", "shop_name", "x" * 2001, "user:ada")
        await set_constant(db, "shop", "free_over", 75.5, "user:ada")
        await db.commit()
        rows = {row.name: (row.type, row.in_file, row.value, row.set_by) for row in await list_constants(db, "shop")}
        assert rows == {"shop_name": ("string", "Acme", "Acme", None), "free_over": ("number", 50, 75.5, "user:ada"),
                        "gift": ("boolean", False, False, None)}  # fmt: skip
        assert await unset_constant(db, "shop", "free_over", "user:ada") is True
        assert await unset_constant(db, "shop", "free_over", "user:ada") is False
        await db.commit()
        assert [row.value for row in await list_constants(db, "shop")] == ["Acme", 50, False]


async def test_a_list_constant_is_checked_item_by_item_and_bounded_in_size(any_engine: AsyncEngine) -> None:
    tagged = parse_pipeline("""
id: tagged
title: Tagged
constants: {tags: {type: string, multiple: true, default: [new]}}
stages: [{id: new, title: New}, {id: done, title: Done, final: success}]
""")
    await seed(any_engine, tagged)
    async with session(any_engine) as db:
        await set_constant(db, "tagged", "tags", "vip, gift", "user:ada", typed_in=True)
        assert [(row.type, row.value) for row in await list_constants(db, "tagged")] == [
            ("list of string", ["vip", "gift"])
        ]
        with pytest.raises(ConstantRefused, match=r"constant 'tags': 6,0\d\d bytes of JSON; at most 4,096"):
            await set_constant(db, "tagged", "tags", ["x" * 1000] * 6, "user:ada")
        with pytest.raises(ConstantRefused, match="it is a list of string constant: a list of string is a list"):
            await set_constant(db, "tagged", "tags", 12, "user:ada")
