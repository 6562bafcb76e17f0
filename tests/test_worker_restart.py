"""A worker stopped in the middle of a Wait, and a new one started: the order carries on
(the new worker rebuilds the workflow from its history)."""

from __future__ import annotations

from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.pipeline import Pipeline
from order_client import OrderClient
from store.database import session
from store.tables import Notification
from tests.conftest import running_engine, seed
from tests.helpers import WAIT, event, eventually, new_order, payment, ready_view, responsible_is


async def test_a_new_worker_carries_on_with_a_waiting_order(
    dev_env: WorkflowEnvironment, deps: WorkerResources, example_pipeline: Pipeline
) -> None:
    await seed(deps.engine, example_pipeline)
    order = new_order()
    async with running_engine(dev_env, deps) as first:
        task_queue = first.task_queue
        await first.orders.create_order(order)
        await first.orders.apply_event(order.order_id, payment())
        await eventually(lambda: _waiting(first.orders, order.order_id))

    async with running_engine(dev_env, deps, task_queue=task_queue) as second:
        outcome = await second.orders.apply_event(order.order_id, event("email_received"))
        assert outcome.stage == "paid"
        await eventually(lambda: responsible_is(second.orders, order.order_id, "emp-warehouse"))

    async with session(deps.engine) as db:
        texts = list(await db.exec(select(Notification.text).where(Notification.order_id == order.order_id)))
    wait_notices = [t for t in texts if "prepare the shipment" in t]
    assert wait_notices == [
        f"Order {order.order_id}: customer activity (Incoming e-mail). Time to prepare the shipment."
    ]


async def _waiting(orders: OrderClient, order_id: str) -> bool:
    """The Wait waits and nothing else is under way: the worker stops with no workflow task to
    come, which would go to its sticky queue and keep the next worker waiting for that queue
    to time out (about 10 s, README "Benchmarks")."""
    view = await ready_view(orders, order_id)
    if view is None or not view.idle or view.pending_events:
        return False
    if any(rule.status == "running" for rule in view.rules):  # its result would come in a task
        return False
    return any(rule.title == WAIT and rule.status == "waiting" for rule in view.rules)
