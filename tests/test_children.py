"""The Start workflow rule starts a real child workflow, which lives its own life."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select
from temporalio.client import WorkflowExecutionDescription
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.pipeline import parse_pipeline
from store.database import session
from store.tables import LogLine
from tests.conftest import running_engine, seed
from tests.helpers import eventually, new_order

PIPELINE = parse_pipeline("""
id: children
title: Children
stages:
  - id: new
    title: New
    rules:
      - type: start_workflow
        params: {workflow: follow_up, input: {after_hours: 2, note: "Call {{ customer.first_name }} back"}}
  - {id: done, title: Done, final: success}
""")


async def test_the_follow_up_child_leaves_its_note_two_hours_later(
    time_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    await seed(deps.engine, PIPELINE)
    async with running_engine(time_env, deps) as engine:
        order = new_order("children")
        await engine.orders.create_order(order)

        child_id = f"order-{order.order_id}-follow_up-{order.order_id}-0-0"

        async def child_started() -> WorkflowExecutionDescription | None:
            try:
                return await time_env.client.get_workflow_handle(child_id).describe()
            except RPCError as err:
                assert err.status == RPCStatusCode.NOT_FOUND
                return None

        child = await eventually(child_started)
        await time_env.sleep(timedelta(hours=1))
        assert await _notes(deps, order.order_id) == []
        await time_env.sleep(timedelta(hours=2))
        assert await eventually(lambda: _notes(deps, order.order_id)) == ["Call Ada back"]
        assert child.parent_id == f"order-{order.order_id}"
        assert child.workflow_type == "follow_up"


async def _notes(deps: WorkerResources, order_id: str) -> list[str]:
    async with session(deps.engine) as db:
        return list(await db.exec(select(LogLine.message).where(LogLine.order_id == order_id)))
