"""What a new order writes into its history: today's orders take no patch marker (their input
says their workflow version), an order started by a client that does not say it takes one, and
a full life is 16 events: the pipeline and its version loaded with the first task, and the store
write of the task that starts a rule made with the rule's result."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.order import workflow_id
from automation.pipeline import parse_pipeline
from automation.state import WORKFLOW_VERSION
from tests.conftest import Engine, running_engine, seed
from tests.helpers import event, eventually, new_order

LIFE = parse_pipeline("""
id: life
title: One life
stages:
  - {id: new, title: New}
  - {id: done, title: Done, final: success, triggers: [{type: form_submitted}], rules: [{type: delete_order}]}
""")


@pytest.fixture
async def engine(dev_env: WorkflowEnvironment, deps: WorkerResources) -> AsyncIterator[Engine]:
    await seed(deps.engine, LIFE)
    async with running_engine(dev_env, deps) as running:
        yield running


async def _history(engine: Engine, order_id: str) -> list[HistoryEvent]:
    return [e async for e in engine.client.get_workflow_handle(workflow_id(order_id)).fetch_history_events()]


def _kinds(events: list[HistoryEvent]) -> list[str]:
    return [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in events]


def _markers(events: list[HistoryEvent]) -> list[str]:
    """Each marker's name; a patch marker as ``patch:<its id>``."""
    names = []
    for e in events:
        if e.HasField("marker_recorded_event_attributes"):
            marker = e.marker_recorded_event_attributes
            if marker.marker_name == "core_patch":
                data = json.loads(marker.details["patch-data"].payloads[0].data)
                names.append(f"patch:{data['id']}")
            else:
                names.append(marker.marker_name)
    return names


async def test_a_full_life_takes_16_events_its_store_write_waiting_for_its_rule(engine: Engine) -> None:
    order = new_order("life")
    await engine.orders.apply_event(order, event("form_submitted", form_id="f"))  # update-with-start
    await engine.orders.handle(order.order_id).result()  # Delete order ended it
    events = await _history(engine, order.order_id)
    # start_versioned_order (the pipeline and its version, the arrival) is the first marker. The
    # task that enters 'done' starts Delete order and holds its store write for the rule's result:
    # the last task stores both, the second marker. Entering 'done' at once, it knows it runs the
    # newest version; the start's search attributes are folded into the one upsert of its stage.
    assert _kinds(events) == [
        "WORKFLOW_EXECUTION_STARTED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "WORKFLOW_EXECUTION_UPDATE_ACCEPTED",
        "MARKER_RECORDED",
        "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES",
        "ACTIVITY_TASK_SCHEDULED",
        "WORKFLOW_EXECUTION_UPDATE_COMPLETED",
        "ACTIVITY_TASK_STARTED",
        "ACTIVITY_TASK_COMPLETED",
        "WORKFLOW_TASK_SCHEDULED",
        "WORKFLOW_TASK_STARTED",
        "WORKFLOW_TASK_COMPLETED",
        "MARKER_RECORDED",
        "WORKFLOW_EXECUTION_COMPLETED",
    ]
    assert _markers(events) == ["core_local_activity"] * 2


async def test_an_order_whose_input_does_not_say_its_version_takes_one_marker(engine: Engine) -> None:
    order = new_order("life")
    raw = json.loads(order.model_dump_json())
    handle = await engine.client.start_workflow("Order", {"order": raw}, id=workflow_id(order.order_id),
                                                task_queue=engine.task_queue)  # fmt: skip
    await engine.orders.apply_event(order.order_id, event("form_submitted", form_id="f"))
    await handle.result()
    assert [m for m in _markers(await _history(engine, order.order_id)) if m.startswith("patch:")] == [
        f"patch:workflow-version-{WORKFLOW_VERSION}"
    ]


async def test_an_order_of_a_newer_workflow_version_waits_for_a_newer_worker(engine: Engine) -> None:
    """Run as an older version (no marker says which), it would not replay on the code that
    declared it: its workflow task fails, and Temporal retries it until a newer worker comes."""
    order = new_order("life")
    raw = {"order": json.loads(order.model_dump_json()), "workflow_version": WORKFLOW_VERSION + 1}
    handle = await engine.client.start_workflow("Order", raw, id=workflow_id(order.order_id),
                                                task_queue=engine.task_queue)  # fmt: skip
    try:
        failure = await eventually(lambda: _task_failure(engine, order.order_id))
        assert f"this worker runs up to {WORKFLOW_VERSION}: a newer worker must run it" in failure
        kinds = _kinds(await _history(engine, order.order_id))
        assert "MARKER_RECORDED" not in kinds and "WORKFLOW_TASK_COMPLETED" not in kinds
    finally:
        await handle.terminate("test over")


async def _task_failure(engine: Engine, order_id: str) -> str | None:
    for e in await _history(engine, order_id):
        if e.HasField("workflow_task_failed_event_attributes"):
            return str(e.workflow_task_failed_event_attributes.failure.message)
    return None
