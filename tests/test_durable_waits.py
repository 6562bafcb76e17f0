"""Waits of days, on the time-skipping test server: a 3-day Wait takes 3 virtual days."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta

from sqlmodel import col, select
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.pipeline import Pipeline, parse_pipeline
from order_client import OrderClient
from store.database import session
from store.tables import LogLine, Notification
from tests.conftest import running_engine, seed
from tests.helpers import WAIT, event, eventually, new_order, payment, ready_view, responsible_is, rule_status


async def _notifications(deps: WorkerResources, order_id: str) -> list[str]:
    async with session(deps.engine) as db:
        return list(await db.exec(select(Notification.text).where(Notification.order_id == order_id)))


async def _is(status: Awaitable[str | None], wanted: str) -> bool:
    return await status == wanted


async def _no_rule_running(orders: OrderClient, order_id: str) -> bool:
    """The test server refuses a workflow task that cancels an activity which completed while
    the task ran (ACTIVITY_UNKNOWN; Temporal's server takes it), and then the task never
    completes: an event that moves the order while its first rules run waits for them here."""
    view = await ready_view(orders, order_id)
    return view is not None and all(rule.status not in ("running", "pending") for rule in view.rules)


async def test_a_three_day_wait_ends_at_its_deadline_and_lets_its_chain_run(
    time_env: WorkflowEnvironment, deps: WorkerResources, example_pipeline: Pipeline
) -> None:
    await seed(deps.engine, example_pipeline)
    async with running_engine(time_env, deps) as engine:
        order = new_order()
        await engine.orders.create_order(order)
        await eventually(lambda: _no_rule_running(engine.orders, order.order_id))
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
    time_env: WorkflowEnvironment, deps: WorkerResources, example_pipeline: Pipeline
) -> None:
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


AFTER_A_WAIT = parse_pipeline(
    """
id: after-wait
title: After a Wait
stages:
  - id: new
    title: New
    rules:
      - {type: wait, params: {timeout: {after: 3d}}}
      - {type: write_to_log, after_previous: true, params: {message: "after the wait: {{ wait.reason }}"}}
      - {type: write_to_log, after_previous: true, params: {message: "and later: {{ wait.ended_by }}"}}
  - {id: done, title: Done, final: success}
"""
)


async def _log(deps: WorkerResources, order_id: str) -> list[str]:
    async with session(deps.engine) as db:
        rows = await db.exec(select(LogLine.message).where(LogLine.order_id == order_id).order_by(col(LogLine.id)))
        return list(rows)


async def test_the_rules_chained_after_a_wait_read_how_it_ended(
    time_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    await seed(deps.engine, AFTER_A_WAIT)
    async with running_engine(time_env, deps) as engine:
        answered, silent = new_order("after-wait"), new_order("after-wait")
        for order in (answered, silent):
            await engine.orders.create_order(order)
        await eventually(lambda: _is(rule_status(engine.orders, answered.order_id, "Wait"), "waiting"))
        await engine.orders.send_event(answered.order_id, event("email_received"))
        await time_env.sleep(timedelta(days=3, minutes=1))
        answered_log = await eventually(lambda: _two(deps, answered.order_id))
        silent_log = await eventually(lambda: _two(deps, silent.order_id))
    assert answered_log == ["after the wait: customer activity (Incoming e-mail)", "and later: customer_activity"]
    assert silent_log == ["after the wait: no customer activity before the deadline", "and later: timeout"]


async def _two(deps: WorkerResources, order_id: str) -> list[str] | None:
    lines = await _log(deps, order_id)
    return lines if len(lines) == 2 else None
