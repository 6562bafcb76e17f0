"""Records the replay corpus in ``tests/histories/``: real histories of orders taking
every path of the example pipeline, across a continue-as-new. Re-record only on purpose,
after a change that is meant to be incompatible (and no order runs the old code):

    uv run python -m tests.record_histories [SCENARIO ...]   (default: all of them)

Histories of older code stay in the corpus: orders started then may still be running.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from api.server import serving
from automation import search
from automation.converter import data_converter
from automation.order import NewOrder
from automation.pipeline import load_pipeline, parse_pipeline
from config import Settings
from devserver import free_port, mail_catcher, provider_sandbox, sandbox_settings
from order_client import OrderClient
from providers.mail import SmtpMailer
from store.database import make_engine
from store.schema import migrate
from tests.conftest import EXAMPLE_PIPELINE, _binary, running_engine, seed
from tests.helpers import event, eventually, new_order, payment, ready_view
from tests.test_trigger_loop import PING_PONG

HISTORIES = Path(__file__).parent / "histories"
Scenario = Callable[[OrderClient, NewOrder], Awaitable[None]]


async def _stage(orders: OrderClient, order_id: str, stage: str) -> bool:
    view = await ready_view(orders, order_id)
    return view is not None and view.stage == stage and all(r.status != "running" for r in view.rules)


async def lifecycle(orders: OrderClient, order: NewOrder) -> None:
    """new → paid (wait ended by an e-mail, chain runs) → shipped → cancelled."""
    await orders.create_order(order)
    await eventually(lambda: _stage(orders, order.order_id, "new"))
    await orders.apply_event(order.order_id, payment())
    await orders.send_event(order.order_id, event("email_received"))
    await orders.send_event(order.order_id, event("email_received"))  # a second activity: nothing waits for it
    # packing and the tracking number move it on by themselves: delivery, then shipped
    await eventually(lambda: _stage(orders, order.order_id, "shipped"), timeout=60)
    await orders.apply_event(order.order_id, event("order_cancelled", reason="changed mind"))
    await eventually(lambda: _stage(orders, order.order_id, "cancelled"))


async def refusals(orders: OrderClient, order: NewOrder) -> None:
    """A duplicate, a malformed signal, a backward trigger refused, a wait abandoned."""
    pay = payment()
    await orders.apply_event(order, pay)
    await orders.apply_event(order.order_id, pay)
    await orders.handle(order.order_id).signal("event", {"event_id": "bad", "type": "payment"})
    await orders.apply_event(order.order_id, event("tracking_number_added", tracking_number="TN1"))
    await orders.apply_event(order.order_id, event("email_received"))
    await eventually(lambda: _stage(orders, order.order_id, "shipped"))


async def hand_over(orders: OrderClient, order: NewOrder) -> None:
    """Enough events for the server to suggest continue-as-new while a Wait is pending."""
    await orders.create_order(order)
    await orders.apply_event(order.order_id, payment())
    for i in range(30):
        await orders.send_event(order.order_id, event("payment", amount=i, currency="EUR"))  # paid again: no move
    await orders.apply_event(order.order_id, event("email_received"))
    await eventually(lambda: _stage(orders, order.order_id, "shipped"), timeout=60)


async def ping_pong(orders: OrderClient, order: NewOrder) -> None:
    """The loop guard stops two triggers that bounce the order; a payment still moves it."""
    order = order.model_copy(update={"pipeline_id": PING_PONG.id})
    await orders.create_order(order)

    async def stopped() -> bool:
        view = await ready_view(orders, order.order_id)
        return view is not None and any(e.kind == "loop_stopped" for e in view.timeline)

    await eventually(stopped, timeout=60)
    await orders.apply_event(order.order_id, payment())
    await eventually(lambda: _stage(orders, order.order_id, "paid"))


PATHS = parse_pipeline("""
id: replay-paths
title: Replay paths
stages:
  - {id: new, title: New}
  - id: closing
    title: Closing
    triggers: [{type: webhook, params: {code: close}}]
    rules:
      - {type: change_status, params: {stage: done}}
      - {type: add_comment, after_previous: true, params: {text: "never: the stage has ended"}}
      - {type: add_comment, delay: {after: 1h}, params: {text: "never either"}}
  - id: failing
    title: Failing
    triggers: [{type: webhook, params: {code: fail}}]
    rules:
      - {type: notification, params: {employee_id: emp-nobody, text: "fails: no such employee"}}
      - {type: add_comment, after_previous: true, params: {text: "skipped: the rule before it failed"}}
      - {type: start_workflow, params: {workflow: follow_up, input: {after_hours: 2, note: "later"}}}
  - id: deleting
    title: Deleting
    triggers: [{type: webhook, params: {code: delete}}]
    rules: [{type: delete_order}]
  - {id: done, title: Done, final: success}
""")


async def change_status(orders: OrderClient, order: NewOrder) -> None:
    """A Change status rule ends its stage: a chained rule and a delayed one never run."""
    order = order.model_copy(update={"pipeline_id": PATHS.id})
    await orders.create_order(order)
    await orders.apply_event(order.order_id, event("webhook", code="close"), "temporal")
    await eventually(lambda: _stage(orders, order.order_id, "done"))


async def fail_child_delete(orders: OrderClient, order: NewOrder) -> None:
    """A failing rule skips its chain, another branch starts a child workflow, then the
    order is deleted and its workflow completes."""
    order = order.model_copy(update={"pipeline_id": PATHS.id})
    await orders.create_order(order)
    await orders.apply_event(order.order_id, event("webhook", code="fail"), "temporal")

    async def child_started() -> bool:
        view = await ready_view(orders, order.order_id)
        return view is not None and all(r.status in ("done", "failed", "skipped") for r in view.rules)

    await eventually(child_started)
    await orders.apply_event(order.order_id, event("webhook", code="delete"), "temporal")
    await orders.handle(order.order_id).result()


STEPS = parse_pipeline("""
id: replay-steps
title: Replay steps
stages:
  - {id: s0, title: S0}
  - {id: s1, title: S1, triggers: [{type: form_submitted}], rules: [{type: write_to_log, params: {message: s1}}]}
  - {id: s2, title: S2, triggers: [{type: form_submitted}], rules: [{type: write_to_log, params: {message: s2}}]}
  - {id: s3, title: S3, final: success, triggers: [{type: form_submitted}]}
""")


async def version_window(orders: OrderClient, order: NewOrder) -> None:
    """Stage entries 2, 2 and 6 s apart: an order of workflow version 4 asks for its version
    at each (it knew it for a second), one of version 5 only at the last (for 5 s), one of
    version 6 at none (it asks after a minute, or when a version is announced)."""
    order = order.model_copy(update={"pipeline_id": STEPS.id})
    await orders.create_order(order)
    for pause in (2, 2, 6):
        await asyncio.sleep(pause)
        await orders.apply_event(order.order_id, event("form_submitted", form_id="f"))
    await eventually(lambda: _stage(orders, order.order_id, "s3"))


async def announced(orders: OrderClient, order: NewOrder) -> None:
    """A version announced (``pipeline_version``) 2 s after the start, then a stage entry: an
    order of workflow version 6 asks at it; one of an older version, whose code set the signal
    aside, replays without asking."""
    order = order.model_copy(update={"pipeline_id": STEPS.id})
    await orders.create_order(order)
    await asyncio.sleep(2)
    await orders.handle(order.order_id).signal("pipeline_version", {"pipeline_id": STEPS.id, "number": 2})
    await orders.apply_event(order.order_id, event("form_submitted", form_id="f"))
    await eventually(lambda: _stage(orders, order.order_id, "s1"))


async def record(env: WorkflowEnvironment, scenarios: dict[str, Scenario], folder: Path) -> None:
    """Runs the scenarios with the same local stand-ins as ``make run`` (mail, providers)."""
    smtp_port, providers = free_port(), provider_sandbox(folder / "providers")
    engine = make_engine(f"sqlite:///{folder / 'orders.db'}")
    await migrate(engine)
    await seed(engine, load_pipeline(EXAMPLE_PIPELINE), PING_PONG, PATHS, STEPS)
    with mail_catcher(folder / "mail", smtp_port):
        async with serving(providers, "127.0.0.1", free_port()) as url:
            settings = Settings(smtp_port=smtp_port, **sandbox_settings(url))
            deps = WorkerResources(engine=engine, mailer=SmtpMailer("127.0.0.1", smtp_port), settings=settings)
            await _run(env, deps, scenarios)
    await engine.dispose()


async def _run(env: WorkflowEnvironment, deps: WorkerResources, scenarios: dict[str, Scenario]) -> None:
    async with running_engine(env, deps) as running:
        for name, scenario in scenarios.items():
            order = new_order()
            await scenario(running.orders, order)
            await _save_runs(running.orders, order.order_id, name)


async def _past_its_first_task(handle: WorkflowHandle[Any, Any]) -> WorkflowHistory | None:
    """The run's history once its first workflow task has completed (a query may have been
    answered by a run whose task is still under way)."""
    history = await handle.fetch_history()
    done = any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED for e in history.events)
    return history if done else None


async def _save_runs(orders: OrderClient, order_id: str, name: str) -> None:
    runs = [w async for w in orders.client.list_workflows(f"WorkflowId = 'order-{order_id}'")]
    for number, run in enumerate(sorted(runs, key=lambda r: r.start_time), start=1):
        handle = orders.client.get_workflow_handle(run.id, run_id=run.run_id)
        history = await eventually(functools.partial(_past_its_first_task, handle))
        path = HISTORIES / f"{name}-run{number}.json"
        path.write_text(json.dumps(json.loads(history.to_json()), indent=1) + "\n")
        print(f"recorded {path.name} ({len(history.events)} events)")


PLAIN: dict[str, Scenario] = {
    "lifecycle": lifecycle,
    "refusals": refusals,
    "ping-pong": ping_pong,
    "change-status": change_status,
    "fail-child-delete": fail_child_delete,
    "version-window": version_window,
    "announced": announced,
}
SMALL_HISTORY: dict[str, Scenario] = {"hand-over": hand_over}


async def main(names: list[str]) -> None:
    HISTORIES.mkdir(exist_ok=True)
    common: dict[str, Any] = {"data_converter": data_converter, "search_attributes": search.ALL}
    small = ["--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=40"]
    for scenarios, extra in ((PLAIN, []), (SMALL_HISTORY, small)):
        chosen = {name: run for name, run in scenarios.items() if not names or name in names}
        if not chosen:
            continue
        with tempfile.TemporaryDirectory() as folder:
            env = await WorkflowEnvironment.start_local(
                dev_server_existing_path=_binary("temporal"), dev_server_extra_args=extra, **common
            )
            async with env:
                await record(env, chosen, Path(folder))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
