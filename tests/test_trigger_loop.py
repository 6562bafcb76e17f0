"""Two triggers that bounce an order back and forth, each fired by the other stage's
rule: the engine stops after its bound, says why, and the order stays usable."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from activities.rules.base import Deps
from automation.pipeline import parse_pipeline
from tests.conftest import running_engine, seed
from tests.helpers import eventually, new_order, payment, ready_view
from workflows.order import AUTOMATIC_MOVES_LIMIT

PING_PONG = parse_pipeline("""
id: ping-pong
title: Ping pong
stages:
  - id: ping
    title: Ping
    triggers:
      - type: responsible_changed
        allow_back: true
        condition: {field: event.responsible_id, op: "=", value: emp-sales}
    rules:
      - {type: change_responsible, params: {employee_id: emp-warehouse}}
  - id: pong
    title: Pong
    triggers:
      - type: responsible_changed
        condition: {field: event.responsible_id, op: "=", value: emp-warehouse}
    rules:
      - {type: change_responsible, params: {employee_id: emp-sales}}
  - id: paid
    title: Paid
    triggers: [{type: payment}]
  - {id: done, title: Done, final: success}
""")


async def test_a_trigger_loop_ends_with_its_timeline_entry(dev_env: WorkflowEnvironment, deps: Deps):
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


async def _stopped(orders, order_id):
    view = await ready_view(orders, order_id)
    return view if view is not None and any(e.kind == "loop_stopped" for e in view.timeline) else None
