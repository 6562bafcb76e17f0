"""Declared variables on the real server: an order starts with their defaults, Set variable
counts and computes dates, a value not of its variable's type fails its rule with the
reason and leaves the variable as it was, and the state lists each variable's type."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.pipeline import parse_pipeline
from automation.state import OrderView
from tests.conftest import running_engine, seed
from tests.helpers import eventually, payment, ready_view, started_order

SHOP = parse_pipeline("""
id: counting
title: Counting shop
constants: {grace: {type: integer, default: 3, description: days to pay}}
variables:
  payments: {type: integer, default: 0, description: payments seen}
  pay_by: {type: date}
  note: string
stages:
  - id: new
    title: New
    rules:
      - {type: set_variable, title: Due date, params: {variable: pay_by, value: "2026-12-30", operation: add,
         by: "{{ constants.grace }}d"}}
  - id: paid
    title: Paid
    triggers: [{type: payment, allow_back: true}]
    rules:
      - {type: set_variable, title: Count, params: {variable: payments, operation: add, by: 1}}
      - {type: set_variable, title: Bad count, after_previous: true, params: {variable: payments, value: many}}
  - {id: done, title: Done, final: success}
""")


async def test_declared_variables_start_with_their_defaults_and_keep_their_types(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    await seed(deps.engine, SHOP)
    async with running_engine(dev_env, deps) as engine:
        order = await started_order(engine.orders, "counting")

        async def due_date_set() -> OrderView | None:
            view = await ready_view(engine.orders, order.order_id)
            return view if view is not None and "pay_by" in view.variables else None

        view = await eventually(due_date_set)
        assert view.variables == {"payments": 0, "pay_by": "2027-01-02"}
        assert view.variable_types == {"payments": "integer", "pay_by": "date", "note": "string"}

        await engine.orders.apply_event(order.order_id, payment())

        async def bad_count_over() -> OrderView | None:
            view = await ready_view(engine.orders, order.order_id)
            statuses = {rule.title: rule.status for rule in view.rules} if view else {}
            return view if statuses.get("Bad count") == "failed" else None

        view = await eventually(bad_count_over)
        assert view.variables["payments"] == 1  # counted once; "many" was refused, not stored
        failed = [entry.message for entry in view.timeline if entry.kind == "rule_failed"]
        assert failed == ["rule 2 (Bad count): failed, variables.payments is an integer: 'many' is not a whole number"]
