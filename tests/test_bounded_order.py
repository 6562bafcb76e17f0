"""What an order keeps stays within its limits whatever its rules and the store do: a
rule's result that would outgrow the order fails the rule with the reason, and a store
that falls behind makes the order wait (nothing dropped) rather than pile up its timeline."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.orders import OrderActivities
from activities.rule_activities import rule_activity
from activities.rules.base import WorkerResources
from automation import limits
from automation.contracts import SaveOrderInput
from automation.order import NewOrder
from automation.rule_kinds import rule_kind
from automation.rules import RaisedEvent, RuleInput, RuleResult, result_problem
from automation.state import OrderState, StageVisit
from store.database import session
from store.orders import read_timeline
from tests.conftest import running_engine, seed
from tests.helpers import event, eventually, new_order, paid_pipeline, ready_view

NOW = datetime(2026, 12, 2, tzinfo=UTC)
PIPELINE = paid_pipeline("bounded")


def _state(**parts: Any) -> OrderState:
    pipeline = PIPELINE
    order = NewOrder(order_id="o", pipeline_id="bounded")
    defaults: dict[str, Any] = {"responsible_id": None, "fields": {}, "variables": {}}
    return OrderState(
        order=order, pipeline=pipeline, current=StageVisit(stage="new", visit=0, entered_at=NOW, branches=[]),
        **(defaults | parts),
    )  # fmt: skip


def test_a_result_that_would_outgrow_the_order_variables_or_fields_is_refused() -> None:
    half = "x" * (limits.VARIABLES_BYTES // 2)
    state = _state(variables={"a": half})
    assert result_problem(state, RuleResult(summary="ok", variables={"b": "x" * 100})) is None
    grown = result_problem(state, RuleResult(summary="ok", variables={"b": half}))
    assert grown is not None and grown.startswith("the order's variables would be 65,5")
    assert grown.endswith("bytes of JSON; at most 65,536")
    fields = result_problem(_state(fields={"a": half}), RuleResult(summary="ok", order_changes={"b": half}))
    assert fields is not None and "the order's fields would be" in fields


def test_a_result_too_big_by_itself_is_a_problem() -> None:
    events = [RaisedEvent(type="visit") for _ in range(limits.RULE_EVENTS)]
    assert RuleResult(summary="ok", events=events).problems() == []
    assert RuleResult(summary="ok", events=[*events, RaisedEvent(type="visit")]).problems() == [
        "it raises 21 events; at most 20"
    ]
    huge = RuleResult(summary="ok", variables={"x": "x" * limits.VARIABLES_BYTES})
    assert huge.problems() == ["its variables are 65,544 bytes of JSON; at most 65,536"]
    assert RuleResult(summary="ok", order_changes={"responsible_id": "r" * 101}).problems() == [
        "the responsible id it sets is not an id of at most 100 characters"
    ]


async def test_a_store_that_falls_behind_makes_the_order_wait_and_nothing_is_dropped(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    """The store takes nothing until released: the order holds at most its backlog of
    unstored timeline, leaves the rest of the events waiting in Temporal, then catches up."""
    release = asyncio.Event()
    orders = OrderActivities(deps.engine)

    @activity.defn(name="save_order")
    async def slow_save(input: SaveOrderInput) -> None:
        await release.wait()
        await orders.save_order(input)

    await seed(deps.engine, PIPELINE)
    async with running_engine(dev_env, deps, replacements={"save_order": slow_save}) as engine:
        order = new_order("bounded")
        await engine.orders.create_order(order)
        sent = [event("form_submitted", form_id="survey", fields={"a": "x" * 19_000, "b": "y" * 19_000})]
        sent += [event("form_submitted", form_id="survey", fields={"a": "x" * 19_000}) for _ in range(29)]
        for item in sent:
            await engine.orders.send_event(order.order_id, item)

        async def waiting() -> Any:
            view = await ready_view(engine.orders, order.order_id)
            return view if view is not None and view.pending_events > 0 else None

        held = await eventually(waiting)
        await asyncio.sleep(1)  # it keeps waiting: no event is taken while the store is behind
        still = await engine.orders.state(order.order_id)
        assert still.pending_events == held.pending_events > 0
        unstored = sum(len(entry.model_dump_json()) for entry in still.timeline)
        assert unstored < limits.UNSTORED_TIMELINE_BYTES + limits.EVENT_BYTES + 10_000

        release.set()
        outcome = await engine.orders.apply_event(order.order_id, event("payment", amount=1, currency="EUR"))
        assert outcome.stage == "paid"

    async with session(deps.engine) as db:
        timeline = await read_timeline(db, order.order_id)
    received = [entry.data["event"]["event_id"] for entry in timeline if entry.kind == "event_received"]
    assert received[:-1] == [item["event_id"] for item in sent]  # every one, once, in order


async def test_a_rule_whose_result_is_too_big_fails_in_its_activity(deps: WorkerResources) -> None:
    async def huge(ctx: Any, params: Any) -> RuleResult:
        return RuleResult(summary="read a lot", variables={"x": "x" * limits.VARIABLES_BYTES})

    run = rule_activity(rule_kind("write_to_log"), huge, deps)
    rule_input = RuleInput(order_id="o", run_key="o/0/0", stage="new", rule_index=0, rule_type="write_to_log",
                           params={"message": "m"}, values={"order": {"id": "o"}})  # fmt: skip
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(run, rule_input)
    assert (refused.value.type, refused.value.non_retryable) == ("RuleRefused", True)
    assert refused.value.message == (
        "the rule's result is too big: its variables are 65,544 bytes of JSON; at most 65,536"
    )
