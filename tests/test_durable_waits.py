"""Waits of days, on the time-skipping test server: a 3-day Wait takes 3 virtual days."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta

from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import Deps
from automation.pipeline import Pipeline
from store.database import session
from store.tables import Notification
from tests.conftest import running_engine, seed
from tests.helpers import WAIT, eventually, new_order, payment, responsible_is, rule_status


async def _notifications(deps: Deps, order_id: str) -> list[str]:
    async with session(deps.engine) as db:
        return list(await db.exec(select(Notification.text).where(Notification.order_id == order_id)))


async def _is(status: Awaitable[str | None], wanted: str) -> bool:
    return await status == wanted


async def test_a_three_day_wait_ends_at_its_deadline_and_lets_its_chain_run(
    time_env: WorkflowEnvironment, deps: Deps, example_pipeline: Pipeline
):
    await seed(deps.engine, example_pipeline)
    async with running_engine(time_env, deps) as engine:
        order = new_order()
        await engine.orders.create_order(order)
        assert (await engine.orders.apply_event(order.order_id, payment())).stage == "paid"
        await eventually(lambda: _is(rule_status(engine.orders, order.order_id, WAIT), "waiting"))

        await time_env.sleep(timedelta(days=3) - timedelta(minutes=5))
        assert await _notifications(deps, order.order_id) == []
        assert (await engine.orders.state(order.order_id)).responsible_id == "emp-sales"

        await time_env.sleep(timedelta(minutes=10))
        texts = await eventually(lambda: _notifications(deps, order.order_id))
        assert [t for t in texts if "prepare the shipment" in t] == [
            f"Order {order.order_id}: no customer activity before the deadline. Time to prepare the shipment."
        ]
        await eventually(lambda: responsible_is(engine.orders, order.order_id, "emp-warehouse"))


async def test_a_delayed_rule_runs_after_its_delay_when_its_condition_holds(
    time_env: WorkflowEnvironment, deps: Deps, example_pipeline: Pipeline
):
    await seed(deps.engine, example_pipeline)
    async with running_engine(time_env, deps) as engine:
        unpaid, paid = new_order(), new_order(paid=True)
        for order in (unpaid, paid):
            await engine.orders.create_order(order)
        await time_env.sleep(timedelta(days=2) - timedelta(minutes=5))
        assert await _notifications(deps, unpaid.order_id) == []

        await time_env.sleep(timedelta(minutes=10))
        reminder = await eventually(lambda: _notifications(deps, unpaid.order_id))
        assert reminder == [f"Order {unpaid.order_id} is still unpaid after two days."]
        await eventually(lambda: _is(rule_status(engine.orders, paid.order_id, "Remind about payment"), "skipped"))
        assert await _notifications(deps, paid.order_id) == []
        timeline = (await engine.orders.state(paid.order_id)).timeline
        assert "rule 9 (Remind about payment): skipped, condition not met (order.paid != True)" in [
            e.message for e in timeline
        ]
