"""No input can kill or wedge an order (the dev server, a real worker and store): what the
engine cannot take is refused with a clear reason, an order that cannot start ends at once
saying why, and an order that refused something is alive and answering."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import update
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowQueryFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation import limits, search
from automation.order import workflow_id
from store.database import session
from store.orders import read_timeline
from store.tables import PipelineRecord, PipelineVersion
from tests.conftest import Engine, running_engine, seed
from tests.helpers import event, eventually, new_order, paid_pipeline, ready_view, started_order

PIPELINE = paid_pipeline("hostile")


@pytest.fixture
async def engine(dev_env: WorkflowEnvironment, deps: WorkerResources) -> AsyncIterator[Engine]:
    await seed(deps.engine, PIPELINE)
    async with running_engine(dev_env, deps) as running:
        yield running


async def _start_raw(engine: Engine, order: dict[str, Any], workflow: str | None = None) -> Any:
    """Starts an order's workflow the way any Temporal client can, past every check of ours."""
    return await engine.client.start_workflow(
        "Order",
        {"order": order},
        id=workflow or workflow_id(str(order.get("order_id"))),
        task_queue=engine.task_queue,
    )


async def _failure(handle: Any) -> ApplicationError:
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), timeout=20)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def _query_refusal(engine: Engine, order_id: str) -> str:
    with pytest.raises(WorkflowQueryFailedError) as refused:
        await engine.orders.state(order_id)
    return str(refused.value)


async def test_a_start_input_that_is_not_an_order_fails_at_once_saying_why(engine: Engine) -> None:
    handle = await _start_raw(engine, {"order_id": "x1"})
    cause = await _failure(handle)
    assert (cause.type, cause.non_retryable, cause.message) == ("InvalidOrder", True, "invalid order")
    assert list(cause.details) == ["order.pipeline_id: required"]
    assert await _query_refusal(engine, "x1") == "the order did not start: invalid order; order.pipeline_id: required"


async def test_a_responsible_id_over_100_characters_is_refused_at_start(engine: Engine) -> None:
    order_id = f"o-{uuid.uuid4().hex[:8]}"
    handle = await _start_raw(engine, {"order_id": order_id, "pipeline_id": "hostile", "responsible_id": "r" * 3000})
    cause = await _failure(handle)
    assert list(cause.details) == ["order.responsible_id: at most 100 characters"]
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.FAILED  # not TERMINATED by a refused search attribute


async def test_a_workflow_id_that_is_not_order_and_the_order_id_is_refused(engine: Engine) -> None:
    order_id = f"x3-{uuid.uuid4().hex[:6]}"
    handle = await _start_raw(engine, {"order_id": order_id, "pipeline_id": "hostile"}, f"order-{order_id}-mismatch")
    cause = await _failure(handle)
    assert cause.message == f"the workflow id of order {order_id!r} must be 'order-{order_id}'"


async def test_an_order_of_an_unknown_pipeline_fails_at_once_and_its_query_says_why(engine: Engine) -> None:
    order = new_order("nope")
    await engine.orders.send_event(order, event("email_received"))  # signal-with-start, past the API's check
    cause = await _failure(engine.orders.handle(order.order_id))
    assert cause.type == "UnknownPipeline"
    assert "no pipeline 'nope' in the store" in cause.message
    assert (await _query_refusal(engine, order.order_id)).startswith("the order did not start: no pipeline 'nope'")


async def test_a_pipeline_stored_too_big_to_travel_fails_its_orders_at_once(engine: Engine) -> None:
    """Stored before pipelines had a limit (the loader refuses it now), and made its version 1
    by the migration that began keeping versions: no order retries forever."""
    async with session(engine.deps.engine) as db:
        record = await db.get(PipelineRecord, "hostile")
        assert record is not None
        definition = {**record.definition, "constants": {"blob": "x" * 3_000_000}}
        await db.exec(update(PipelineRecord).where(PipelineRecord.id == "hostile").values(definition=definition))  # type: ignore[arg-type]
        await db.exec(update(PipelineVersion).where(PipelineVersion.pipeline_id == "hostile")  # type: ignore[arg-type]
                      .values(definition=definition))  # fmt: skip
        await db.commit()
    order = new_order("hostile")
    await engine.orders.create_order(order)
    cause = await _failure(engine.orders.handle(order.order_id))
    assert cause.type == "PipelineTooLarge"
    assert "too big to run with an order (at most 131,072); load a smaller one" in cause.message


async def test_a_responsible_changed_event_with_a_huge_id_is_refused_and_the_order_lives_on(engine: Engine) -> None:
    order = await started_order(engine.orders, "hostile")
    huge = event("responsible_changed", responsible_id="r" * 3000)
    await engine.orders.handle(order.order_id).signal("event", huge)  # a raw signal: recorded as refused
    await engine.orders.send_event(order.order_id, event("payment", amount=5, currency="EUR"))

    async def paid() -> Any:
        view = await ready_view(engine.orders, order.order_id)
        return view if view is not None and view.stage == "paid" else None

    view = await eventually(paid)
    refusal = next(e for e in view.timeline if e.kind == "event_refused")
    assert "data.responsible_id: at most 100 characters" in refusal.message
    assert view.responsible_id == "emp-sales"
    description = await engine.orders.handle(order.order_id).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert description.typed_search_attributes.get(search.ORDER_RESPONSIBLE) == "emp-sales"


def _form(size: int) -> dict[str, Any]:
    """A form event of about ``size`` bytes: several texts of at most 20,000 characters."""
    fields = {f"f{i}": "x" * 15_000 for i in range(size // 15_000)}
    return event("form_submitted", form_id="survey", fields=fields)


async def _continue_as_new_inputs(engine: Engine, order_id: str) -> list[int]:
    """The size of the state each run of the order handed to the next."""
    sizes = []
    async for execution in engine.client.list_workflows(f"WorkflowId = '{workflow_id(order_id)}'"):
        history = await engine.client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        for history_event in history.events:
            if history_event.HasField("workflow_execution_continued_as_new_event_attributes"):
                attributes = history_event.workflow_execution_continued_as_new_event_attributes
                sizes.append(sum(len(p.data) for p in attributes.input.payloads))
    return sizes


async def test_ninety_events_of_60_kb_do_not_wedge_the_order(
    small_history_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    """Each under the 64 KiB cap; together they once made a 5.4 MB continue-as-new input."""
    await seed(deps.engine, PIPELINE)
    async with running_engine(small_history_env, deps) as engine:
        order = await started_order(engine.orders, "hostile")
        sent = [_form(60_000) for _ in range(90)]
        for item in sent:
            await engine.orders.send_event(order.order_id, item)
        outcome = await engine.orders.apply_event(order.order_id, event("payment", amount=1, currency="EUR"))
        assert outcome.stage == "paid"
        view = await engine.orders.state(order.order_id)
        sizes = await _continue_as_new_inputs(engine, order.order_id)

    assert view.runs >= 2 and len(sizes) == view.runs - 1
    assert max(sizes) < limits.STATE_BUDGET_BYTES, sizes
    async with session(deps.engine) as db:
        timeline = await read_timeline(db, order.order_id)
    received = [entry.data["event"]["event_id"] for entry in timeline if entry.kind == "event_received"]
    assert sorted(received[:-1]) == sorted(item["event_id"] for item in sent)  # each once, then the payment
