"""Two triggers that bounce an order back and forth, each fired by the other stage's
rule: the engine stops after its bound, says why, and the order stays usable."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.pipeline import Pipeline, parse_pipeline
from automation.state import OrderView
from order_client import OrderClient
from store.database import session
from store.orders import read_timeline
from store.tables import TimelineRecord
from tests.conftest import running_engine, seed
from tests.helpers import eventually, new_order, payment, ready_view
from workflows.order import AUTOMATIC_MOVES_IN_A_ROW, AUTOMATIC_MOVES_LIMIT


def _ping_pong(pipeline_id: str, delay: str | None = None) -> Pipeline:
    """Two stages whose Change responsible rules fire each other's trigger."""
    delayed = f"delay: {{after: {delay}}}, " if delay else ""
    return parse_pipeline(f"""
id: {pipeline_id}
title: Ping pong
stages:
  - id: ping
    title: Ping
    triggers:
      - type: responsible_changed
        allow_back: true
        condition: {{field: event.responsible_id, op: "=", value: emp-sales}}
    rules:
      - {{type: change_responsible, {delayed}params: {{employee_id: emp-warehouse}}}}
  - id: pong
    title: Pong
    triggers:
      - type: responsible_changed
        condition: {{field: event.responsible_id, op: "=", value: emp-warehouse}}
    rules:
      - {{type: change_responsible, {delayed}params: {{employee_id: emp-sales}}}}
  - id: paid
    title: Paid
    triggers: [{{type: payment}}]
  - {{id: done, title: Done, final: success}}
""")


PING_PONG = _ping_pong("ping-pong")


async def test_a_trigger_loop_ends_with_its_timeline_entry(dev_env: WorkflowEnvironment, deps: WorkerResources) -> None:
    await seed(deps.engine, PING_PONG)
    async with running_engine(dev_env, deps) as engine:
        order = new_order("ping-pong")
        await engine.orders.create_order(order)

        view = await eventually(lambda: _stopped(engine.orders, order.order_id), timeout=60)
        changes = [e for e in view.timeline if e.kind == "stage_changed"]
        assert len(changes) == AUTOMATIC_MOVES_LIMIT
        [stop] = [e for e in view.timeline if e.kind == "loop_stopped"]
        assert f"{AUTOMATIC_MOVES_LIMIT} automatic stage changes in the last 1:00:00, a trigger loop?" in stop.message

        outcome = await engine.orders.apply_event(order.order_id, payment())
        assert (outcome.stage, outcome.status) == ("paid", "applied")


async def _stopped(orders: OrderClient, order_id: str) -> OrderView | None:
    view = await ready_view(orders, order_id)
    return view if view is not None and any(e.kind == "loop_stopped" for e in view.timeline) else None


async def test_a_slow_trigger_loop_ends_too(time_env: WorkflowEnvironment, deps: WorkerResources) -> None:
    """Each move waits two hours: never ten in an hour, but the bound on moves in a row with
    no service or customer in between stops it (on the time-skipping server)."""
    slow = _ping_pong("slow-ping-pong", delay="2h")
    await seed(deps.engine, slow)
    async with running_engine(time_env, deps) as engine:
        order = new_order(slow.id)
        await engine.orders.create_order(order)
        await time_env.sleep(timedelta(hours=2 * AUTOMATIC_MOVES_IN_A_ROW + 5))

        view = await eventually(lambda: _stopped(engine.orders, order.order_id))
        stored = await eventually(lambda: _stored_stop(deps, order.order_id))
        assert len([e for e in stored if e.kind == "stage_changed"]) == AUTOMATIC_MOVES_IN_A_ROW
        [stop] = [e for e in view.timeline if e.kind == "loop_stopped"]
        assert f"{AUTOMATIC_MOVES_IN_A_ROW} automatic stage changes in a row" in stop.message


async def _stored_stop(deps: WorkerResources, order_id: str) -> list[TimelineRecord] | None:
    async with session(deps.engine) as db:
        entries = await read_timeline(db, order_id)
    return entries if any(e.kind == "loop_stopped" for e in entries) else None
