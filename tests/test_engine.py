"""How an order reacts to events and runs its rules, on the dev server."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import func, select
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.rule_activities import CARRIED_WRITE_AFTER, rule_activity
from activities.rules.base import RuleContext, WorkerResources
from automation import search
from automation.events import InvalidEvent
from automation.pipeline import parse_pipeline
from automation.rule_kinds import rule_kind
from automation.rules import RuleParams, RuleResult
from automation.state import OrderView, TimelineKind
from order_client import OrderSummary
from store.database import session
from store.orders import read_timeline
from store.tables import Comment, Notification, Order
from tests.conftest import Engine, running_engine, seed
from tests.helpers import event, eventually, new_order, payment, ready_view
from worker import all_activities

PIPELINE = parse_pipeline(
    """
id: test
title: Test pipeline
stages:
  - id: new
    title: New
    triggers:
      - {type: chat_message, title: Chat reopens, allow_back: true}
  - id: waiting
    title: Waiting for the customer
    triggers:
      - {type: payment, title: Paid}
      - {type: email_received, title: Mail moves back}
    rules:
      - type: wait
        params: {timeout: {after: 3d}}
      - type: add_comment
        after_previous: true
        params: {text: "after the wait"}
      - type: change_responsible
        after_previous: true
        params: {employee_id: emp-warehouse}
  - id: slow
    title: Slow work
    triggers:
      - {type: webhook, params: {code: slow}}
    rules:
      - type: write_to_log
        params: {message: "takes long"}
  - id: closing
    title: Closing
    triggers:
      - {type: webhook, params: {code: close}}
    rules:
      - type: change_status
        params: {stage: done}
      - type: add_comment
        after_previous: true
        params: {text: "never: the stage has ended"}
      - type: add_comment
        delay: {after: 1h}
        params: {text: "never either"}
  - id: failing
    title: Failing rule
    triggers:
      - {type: webhook, params: {code: fail}}
    rules:
      - type: notification
        params: {employee_id: emp-nobody, text: "fails: no such employee"}
      - type: add_comment
        after_previous: true
        params: {text: "skipped: the rule before it failed"}
      - type: add_comment
        params: {text: "runs: another branch"}
  - id: racing
    title: Racing the next event
    triggers:
      - {type: webhook, params: {code: race}}
    rules:
      - type: write_to_log
        params: {message: "finishes as the order moves on"}
      - type: add_comment
        after_previous: true
        params: {text: "never: the order has left the stage"}
  - id: texting
    title: Texting the customer
    triggers:
      - {type: webhook, params: {code: text}}
    rules:
      - type: send_sms
        params: {text: "your order is on its way"}
  - id: deleting
    title: Deleting
    triggers:
      - {type: webhook, params: {code: delete}}
    rules:
      - type: delete_order
  - id: done
    title: Done
    final: success
  - id: cancelled
    title: Cancelled
    final: failure
    triggers:
      - {type: order_cancelled}
"""
)


async def _comments(engine: Engine, order_id: str) -> list[str]:
    async with session(engine.deps.engine) as db:
        return list(await db.exec(select(Comment.text).where(Comment.order_id == order_id)))


async def _start(engine: Engine, stage_event: dict[str, Any] | None = None) -> str:
    order = new_order("test")
    await engine.orders.create_order(order)
    if stage_event is not None:
        await engine.orders.apply_event(order.order_id, stage_event, "temporal")  # a trusted client: any type
    await eventually(lambda: ready_view(engine.orders, order.order_id))
    return order.order_id


@pytest.fixture
async def engine(dev_env: WorkflowEnvironment, deps: WorkerResources) -> AsyncIterator[Engine]:
    await seed(deps.engine, PIPELINE)
    async with running_engine(dev_env, deps) as running:
        yield running


async def test_a_trigger_on_an_earlier_stage_is_refused_unless_it_allows_moving_back(engine: Engine) -> None:
    order_id = await _start(engine, payment())
    slow = await engine.orders.apply_event(order_id, event("webhook", code="slow"), "temporal")
    assert (slow.stage, slow.moved_from) == ("slow", "waiting")

    for refused in (event("payment", amount=1, currency="EUR"), event("email_received")):
        outcome = await engine.orders.apply_event(order_id, refused)
        assert (outcome.status, outcome.stage, outcome.moved_from) == ("applied", "slow", None)
    messages = [e.message for e in (await engine.orders.state(order_id)).timeline]
    assert "Paid on 'waiting' would move the order back: moving back is not allowed" in messages
    assert "Mail moves back on 'waiting' would move the order back: moving back is not allowed" in messages
    assert [m for m in messages if m.startswith("slow → ")] == []

    allowed = await engine.orders.apply_event(order_id, event("chat_message", channel_id="shop-chat", text="hi"))
    assert (allowed.stage, allowed.moved_from) == ("new", "slow")


async def test_an_event_no_trigger_takes_says_why_in_the_timeline(engine: Engine) -> None:
    order_id = await _start(engine)
    outcome = await engine.orders.apply_event(order_id, event("webhook", code="nope"), "temporal")
    assert (outcome.stage, outcome.message) == ("new", "no stage change")
    messages = [e.message for e in (await engine.orders.state(order_id)).timeline]
    assert (
        "no trigger for Webhook at this stage; "
        "Webhook on 'slow': its parameters (code='slow') do not match the event; "
        "Webhook on 'closing': its parameters (code='close') do not match the event; "
        "Webhook on 'failing': its parameters (code='fail') do not match the event; "
        "Webhook on 'racing': its parameters (code='race') do not match the event; "
        "Webhook on 'texting': its parameters (code='text') do not match the event; "
        "Webhook on 'deleting': its parameters (code='delete') do not match the event"
    ) in messages


STEPS = """
id: steps
title: Steps, each taken by the same event
stages:
  - {id: new, title: New}
  - {id: a, title: A, triggers: [{type: form_submitted}]}
  - {id: b, title: B, triggers: [{type: form_submitted}]}
  - {id: c, title: C, final: success, triggers: [{type: form_submitted, allow_back: true}]}
"""


async def test_an_event_that_moves_the_order_on_records_no_refusal_of_earlier_stages(engine: Engine) -> None:
    """The triggers that would take the order back explain an event only when it moved nothing
    (the last event, which ``c``'s own trigger takes without a move, included)."""
    await seed(engine.deps.engine, parse_pipeline(STEPS))
    order = new_order("steps")
    await engine.orders.create_order(order)
    for stage in ("a", "b", "c", "c"):
        outcome = await engine.orders.apply_event(order.order_id, event("form_submitted", form_id="f"))
        assert outcome.stage == stage
    kinds = [(e.kind, e.message) for e in (await engine.orders.state(order.order_id)).timeline]
    refusals = [message for kind, message in kinds if kind == "trigger_refused"]
    assert refusals == [
        f"CRM form submitted on {stage!r} would move the order back: moving back is not allowed" for stage in "ab"
    ], kinds


async def test_a_match_on_the_current_stage_changes_nothing(engine: Engine) -> None:
    order_id = await _start(engine)
    outcome = await engine.orders.apply_event(order_id, event("chat_message", channel_id="c", text="hello"))
    assert (outcome.stage, outcome.moved_from, outcome.message) == ("new", None, "already at this stage")


async def test_leaving_the_stage_abandons_the_wait_and_its_chain(engine: Engine) -> None:
    order_id = await _start(engine, payment())
    view = await engine.orders.state(order_id)
    assert [r.status for r in view.rules] == ["waiting", "pending", "pending"]

    await engine.orders.apply_event(order_id, event("webhook", code="slow"), "temporal")
    await engine.orders.send_event(order_id, event("email_received"))  # would have ended the wait
    await eventually(lambda: _stored_stage(engine, order_id, "slow"))

    timeline = (await engine.orders.state(order_id)).timeline
    messages = [e.message for e in timeline]
    assert "rule 1 (Wait): stopped, the order left the stage" in messages
    assert "rule 2 (Add comment): not run, the order left the stage" in messages
    assert "rule 3 (Change responsible): not run, the order left the stage" in messages
    assert await _comments(engine, order_id) == []
    async with session(engine.deps.engine) as db:
        assert (await db.get(Order, order_id)).responsible_id == "emp-sales"  # type: ignore[union-attr]
        assert list(await db.exec(select(Notification).where(Notification.order_id == order_id))) == []


async def _stored_stage(engine: Engine, order_id: str, stage: str) -> Order | None:
    async with session(engine.deps.engine) as db:
        order = await db.get(Order, order_id)
    return order if order is not None and order.stage == stage else None


async def test_leaving_the_stage_cancels_a_running_activity(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    """A rule that takes long is cancelled when the order moves on: the worker heartbeats
    for every rule, and the heartbeat brings the cancellation."""
    await seed(deps.engine, PIPELINE)
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow_log(ctx: RuleContext, params: RuleParams) -> RuleResult:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return RuleResult(summary="never")

    log = rule_kind("write_to_log")
    slow = dataclasses.replace(log, heartbeat=timedelta(seconds=1))
    options: dict[str, Any] = {"replacements": {"write_to_log": rule_activity(slow, slow_log, deps)},
                               "max_heartbeat_throttle_interval": timedelta(seconds=0.2),
                               "default_heartbeat_throttle_interval": timedelta(seconds=0.2)}  # fmt: skip
    async with running_engine(dev_env, deps, **options) as engine:
        order_id = await _start(engine, event("webhook", code="slow"))
        await asyncio.wait_for(started.wait(), 10)
        outcome = await engine.orders.apply_event(order_id, event("order_cancelled"))
        assert outcome.stage == "cancelled"
        await asyncio.wait_for(cancelled.wait(), 10)


async def test_a_rule_that_may_run_long_carries_its_orders_store_write(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    """The store write of the task that starts a rule waits for the rule's result, so that a
    quick rule's order writes once. A rule that may run long (one that calls a provider) carries
    the write and makes it when it has run CARRIED_WRITE_AFTER: the store shows the stage the
    order entered while the rule still runs. A rule that only touches the store does not carry
    it: its order's write comes with its result."""
    await seed(deps.engine, PIPELINE)
    started = {"send_sms": asyncio.Event(), "write_to_log": asyncio.Event()}
    release = asyncio.Event()

    def held(kind: str) -> Any:
        async def run(ctx: RuleContext, params: RuleParams) -> RuleResult:
            started[kind].set()
            await release.wait()
            return RuleResult(summary="done")

        return rule_activity(rule_kind(kind), run, deps)

    options: dict[str, Any] = {"replacements": {kind: held(kind) for kind in started}}
    async with running_engine(dev_env, deps, **options) as engine:
        texting = await _start(engine, event("webhook", code="text"))
        logging = await _start(engine, event("webhook", code="slow"))
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in started.values())), 10)
        assert await eventually(lambda: _stored_stage(engine, texting, "texting"))
        await asyncio.sleep(3 * CARRIED_WRITE_AFTER)
        assert await _stored_stage(engine, logging, "slow") is None  # its write waits for the rule
        release.set()
        assert await eventually(lambda: _stored_stage(engine, logging, "slow"))
        for order_id in (texting, logging):
            stored = await eventually(functools.partial(_stored_rule_finished, engine, order_id))
            assert stored == [e.message for e in (await engine.orders.state(order_id)).timeline]


async def test_a_rule_attempt_that_fails_at_once_makes_the_write_it_carries(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    """The order waits for the rule's retries; the store does not: an attempt that fails
    before CARRIED_WRITE_AFTER makes the carried write as it fails, so the next attempt, a
    backoff later, finds the stage stored."""
    await seed(deps.engine, PIPELINE)
    seen_at_retry: list[Order | None] = []

    async def flaky_sms(ctx: RuleContext, params: RuleParams) -> RuleResult:
        if activity.info().attempt == 1:
            raise RuntimeError("the provider refused the connection")
        async with session(deps.engine) as db:
            seen_at_retry.append(await db.get(Order, ctx.order_id))
        return RuleResult(summary="done")

    replacements = {"send_sms": rule_activity(rule_kind("send_sms"), flaky_sms, deps)}
    async with running_engine(dev_env, deps, replacements=replacements) as engine:
        order_id = await _start(engine, event("webhook", code="text"))
        await eventually(functools.partial(_stored_rule_finished, engine, order_id))
    assert [order.stage if order is not None else None for order in seen_at_retry] == ["texting"]


async def _stored_rule_finished(engine: Engine, order_id: str) -> list[str] | None:
    async with session(engine.deps.engine) as db:
        messages = [e.message for e in await read_timeline(db, order_id)]
    return messages if any(m.endswith("finished, done") for m in messages) else None


async def test_a_rule_finishing_in_the_workflow_task_that_moves_the_order_ends_its_chain(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    """The stage change and the rule's result reach the workflow in one workflow task (no
    workflow worker runs while both happen): the order moves on, the rule is recorded as
    finished, and the rule chained after it does not run in the stage the order has left."""
    await seed(deps.engine, PIPELINE)
    started, release = asyncio.Event(), asyncio.Event()

    async def held_log(ctx: RuleContext, params: RuleParams) -> RuleResult:
        started.set()
        await release.wait()
        return RuleResult(summary="logged")

    held = rule_activity(rule_kind("write_to_log"), held_log, deps)
    task_queue = f"test-{uuid.uuid4()}"
    async with Worker(dev_env.client, task_queue=task_queue, activities=all_activities(deps, {"write_to_log": held})):
        async with running_engine(dev_env, deps, task_queue=task_queue, no_remote_activities=True) as first:
            order_id = await _start(first, event("webhook", code="race"))
            await asyncio.wait_for(started.wait(), 10)
        await first.orders.send_event(order_id, event("order_cancelled"))
        release.set()
        workflow = first.client.get_workflow_handle(f"order-{order_id}")
        await eventually(lambda: _no_activity_pending(workflow))
        async with running_engine(dev_env, deps, task_queue=task_queue, no_remote_activities=True) as second:
            await eventually(lambda: _stored_stage(second, order_id, "cancelled"))
            messages = [e.message for e in (await second.orders.state(order_id)).timeline]
    assert "rule 1 (Write to log): finished, logged" in messages
    assert not any(m.startswith("rule 2 (Add comment): started") for m in messages)
    assert await _comments(second, order_id) == []


async def _no_activity_pending(workflow: WorkflowHandle[Any, Any]) -> bool:
    return not (await workflow.describe()).raw_description.pending_activities


async def test_change_status_ends_every_branch_of_its_stage(engine: Engine) -> None:
    order_id = await _start(engine, event("webhook", code="close"))

    await eventually(lambda: _stored_stage(engine, order_id, "done"))
    async with session(engine.deps.engine) as db:
        messages = [e.message for e in await read_timeline(db, order_id)]
    assert "rule 1 (Change status): finished, moves the order to 'done'" in messages
    assert "closing → done (rule 1 (Change status))" in messages
    assert "rule 3 (Add comment): stopped, the order left the stage" in messages
    assert await _comments(engine, order_id) == []


async def test_a_failing_rule_is_recorded_and_stops_only_its_own_chain(engine: Engine) -> None:
    order_id = await _start(engine, event("webhook", code="fail"))

    await eventually(lambda: _comments(engine, order_id))
    view = await eventually(lambda: _timeline_has(engine, order_id, "rule_failed", 1))
    messages = [e.message for e in view.timeline]
    assert "rule 1 (Notification): failed, no employee with id 'emp-nobody'" in messages
    assert "rule 2 (Add comment): skipped, the rule before it failed" in messages
    assert [r.status for r in view.rules] == ["failed", "skipped", "done"]
    assert await _comments(engine, order_id) == ["runs: another branch"]
    assert (await engine.orders.apply_event(order_id, event("order_cancelled"))).stage == "cancelled"


async def test_a_repeated_event_is_applied_once(engine: Engine) -> None:
    order_id = await _start(engine)
    pay = payment()

    await engine.orders.send_event(order_id, pay)
    again = await engine.orders.apply_event(order_id, pay)
    await engine.orders.send_event(order_id, pay)

    assert (again.status, again.stage) == ("duplicate", "waiting")
    view = await eventually(lambda: _timeline_has(engine, order_id, "event_duplicate", 2))
    assert [e.kind for e in view.timeline].count("event_received") == 1
    assert [e.kind for e in view.timeline].count("stage_changed") == 1


async def _timeline_has(engine: Engine, order_id: str, kind: TimelineKind, count: int) -> OrderView | None:
    view = await engine.orders.state(order_id)
    return view if [e.kind for e in view.timeline].count(kind) >= count else None


async def test_a_malformed_event_is_refused_with_its_message_and_changes_nothing(engine: Engine) -> None:
    order_id = await _start(engine)
    before = await engine.orders.state(order_id)
    bad_payment = {**payment(), "data": {"amount": "lots", "currency": "EUR"}}

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await engine.orders.handle(order_id).execute_update("apply_event", bad_payment)
    cause = refused.value.cause
    # Not retryable, of a stable type, one detail per problem: what any SDK can act on.
    assert isinstance(cause, ApplicationError) and (cause.type, cause.non_retryable) == ("InvalidEvent", True)
    assert list(cause.details) == ["data.amount: input should be a valid number, unable to parse string as a number"]
    with pytest.raises(WorkflowUpdateFailedError) as unknown:
        await engine.orders.handle(order_id).execute_update("apply_event", {**payment(), "type": "paymnt"})
    assert isinstance(unknown.value.cause, ApplicationError)
    assert unknown.value.cause.details[0].startswith("type: unknown event type 'paymnt'")
    with pytest.raises(InvalidEvent, match=r"data\.currency: required"):
        await engine.orders.send_event(order_id, {**payment(), "data": {"amount": 5}})

    after = await engine.orders.state(order_id)
    assert after == before


async def test_a_malformed_signal_from_another_language_is_recorded_as_refused(engine: Engine) -> None:
    order_id = await _start(engine)
    await engine.orders.handle(order_id).signal("event", {"event_id": "x-1", "type": "payment", "data": {}})
    view = await eventually(lambda: _timeline_has(engine, order_id, "event_refused", 1))
    refusal = next(e for e in view.timeline if e.kind == "event_refused")
    assert "data.amount: required" in refusal.message
    assert "occurred_at: required" in refusal.message
    assert view.stage == "new"


async def test_orders_are_listed_by_stage_through_search_attributes(engine: Engine) -> None:
    paid = await _start(engine, payment())
    fresh = await _start(engine)

    async def listed() -> list[OrderSummary] | None:
        found = await engine.orders.list_orders(stage="waiting", pipeline_id="test")
        return found if paid in [o.order_id for o in found] else None

    found = await eventually(listed)
    assert fresh not in [o.order_id for o in found]
    assert {o.pipeline_id for o in found} == {"test"}


async def test_an_upsert_sends_only_the_search_attributes_that_changed(engine: Engine) -> None:
    """Smaller history events for the server to store: the others keep their values."""
    order_id = await _start(engine, payment())
    await engine.orders.apply_event(order_id, event("webhook", code="slow"), "temporal")
    changed = event("responsible_changed", previous_id="emp-sales", responsible_id="emp-warehouse")
    await engine.orders.apply_event(order_id, changed)
    handle = engine.orders.handle(order_id)
    upserts = [
        set(e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields)
        for e in (await handle.fetch_history()).events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    ]
    every = {key.name for key in (search.ORDER_STAGE, search.ORDER_OUTCOME, search.ORDER_PIPELINE,
                                  search.ORDER_RESPONSIBLE, search.ORDER_CUSTOMER)}  # fmt: skip
    assert len(upserts) >= 3, upserts
    assert upserts[0] == every
    assert upserts[1:] == [{search.ORDER_STAGE.name}] * (len(upserts) - 2) + [{search.ORDER_RESPONSIBLE.name}]
    attributes = (await handle.describe()).typed_search_attributes
    order = (await engine.orders.state(order_id)).customer_id
    assert [attributes.get(key) for key in (search.ORDER_STAGE, search.ORDER_OUTCOME, search.ORDER_PIPELINE,
                                            search.ORDER_RESPONSIBLE, search.ORDER_CUSTOMER)] == [
        "slow", search.OPEN, "test", "emp-warehouse", order,
    ]  # fmt: skip


async def test_an_event_for_an_order_without_workflow_starts_it(engine: Engine) -> None:
    order = new_order("test")
    outcome = await engine.orders.apply_event(order, payment())
    assert (outcome.stage, outcome.moved_from) == ("waiting", "new")

    other = new_order("test")
    await engine.orders.send_event(other, payment())
    await engine.orders.send_event(other, event("webhook", code="slow"), "temporal")
    await eventually(lambda: _stored_stage(engine, other.order_id, "slow"))
    async with session(engine.deps.engine) as db:
        count = (await db.exec(select(func.count()).select_from(Order))).one()
    assert count == 2


async def test_a_signal_that_is_not_even_an_object_is_refused_visibly(engine: Engine) -> None:
    order_id = await _start(engine)
    await engine.orders.handle(order_id).signal("event", ["not", "an", "event"])
    view = await eventually(lambda: _timeline_has(engine, order_id, "event_refused", 1))
    [refusal] = [e.message for e in view.timeline if e.kind == "event_refused"]
    assert refusal == "event refused: invalid event: input should be a valid dictionary or instance of Event"
    assert view.stage == "new"


async def test_a_responsible_changed_in_the_crm_becomes_the_orders_responsible(engine: Engine) -> None:
    order_id = await _start(engine)
    changed = event("responsible_changed", previous_id="emp-sales", responsible_id="emp-warehouse")
    await engine.orders.apply_event(order_id, changed)

    assert (await engine.orders.state(order_id)).responsible_id == "emp-warehouse"

    async def listed() -> list[OrderSummary]:
        found = await engine.orders.list_orders(pipeline_id="test", outcome="open")
        return [o for o in found if o.order_id == order_id and o.responsible_id == "emp-warehouse"]

    await eventually(listed)
    await eventually(lambda: _stored_responsible(engine, order_id, "emp-warehouse"))


async def _stored_responsible(engine: Engine, order_id: str, employee_id: str) -> bool:
    async with session(engine.deps.engine) as db:
        order = await db.get(Order, order_id)
    return order is not None and order.responsible_id == employee_id


async def test_a_deleted_order_ends_its_workflow_and_its_row_but_not_its_timeline(engine: Engine) -> None:
    order_id = await _start(engine, event("webhook", code="delete"))
    await engine.orders.handle(order_id).result()  # the workflow completes

    async with session(engine.deps.engine) as db:
        assert await db.get(Order, order_id) is None
        messages = [e.message for e in await read_timeline(db, order_id)]
    assert "rule 1 (Delete order): finished, order deleted, unpaid (1 shipment(s) removed)" in messages
    assert messages[-1] == "order deleted: its workflow ends"
    with pytest.raises(RPCError) as gone:
        await engine.orders.send_event(order_id, payment())
    assert gone.value.status == RPCStatusCode.NOT_FOUND
