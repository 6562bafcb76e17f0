"""Running orders and new versions of their pipeline, on a real server: an order keeps the
version its current stage was entered with and takes the newest as it next enters a stage;
a stage the newest version removed takes the order where that version says."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select
from temporalio import activity
from temporalio.testing import WorkflowEnvironment

import workflows.order as order_workflow
from activities.orders import OrderActivities
from activities.rules.base import WorkerResources
from automation.contracts import VERSION_AT_ENTRY, StageEntry, VersionAtEntry
from automation.order import workflow_id
from automation.pipeline import parse_pipeline
from order_client import OrderClient
from store.database import session
from store.orders import read_timeline
from store.pipelines import remember_newest, save_pipeline
from store.tables import LogLine
from tests.conftest import running_engine, seed
from tests.helpers import event, eventually, new_order, payment, ready_view, started_order
from workflows.order import VERSION_ASKED_AFTER, VERSION_KNOWN_FOR


@pytest.fixture(autouse=True)
def one_second_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests here store a version without announcing it, then wait for the order's
    knowledge of the newest to lapse; a second keeps them quick. The windows' own lengths,
    and announcements, have tests of their own (``real_windows``)."""
    monkeypatch.setattr(order_workflow, "VERSION_KNOWN_FOR", timedelta(seconds=1))
    monkeypatch.setattr(order_workflow, "VERSION_ASKED_AFTER", timedelta(seconds=1))


def real_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(order_workflow, "VERSION_KNOWN_FOR", VERSION_KNOWN_FOR)
    monkeypatch.setattr(order_workflow, "VERSION_ASKED_AFTER", VERSION_ASKED_AFTER)


WAITING = """
id: versioned
title: Versioned
stages:
  - id: new
    title: New
    rules:
      - {{type: wait, title: Wait, params: {{timeout: {{after: 3d}}}}}}
      - {{type: write_to_log, after_previous: true, params: {{message: "{v}: waited"}}}}
      - {{type: change_status, after_previous: true, params: {{stage: next}}}}
  - id: next
    title: Next
    rules: [{{type: write_to_log, params: {{message: "{v}: next"}}}}]
  - {{id: done, title: Done, final: success, triggers: [{{type: payment}}]}}
"""


async def _log(deps: WorkerResources, order_id: str, count: int) -> list[str] | None:
    async with session(deps.engine) as db:
        query = select(LogLine.message).where(LogLine.order_id == order_id).order_by(col(LogLine.id))
        lines = list((await db.exec(query)).all())
    return lines if len(lines) >= count else None


async def _store(deps: WorkerResources, text: str, **moves: str) -> int:
    """Stores a new version, then lets a second pass: an order that has just learnt that it
    runs the newest version does not ask again for that long (``VERSION_ASKED_AFTER``)."""
    async with session(deps.engine) as db:
        stored = await save_pipeline(db, parse_pipeline(text), stage_moves=moves)
        await db.commit()
    await asyncio.sleep(order_workflow.VERSION_ASKED_AFTER.total_seconds())
    return stored.version.number


async def _timeline(orders: OrderClient, order_id: str, kind: str) -> list[str]:
    view = await orders.state(order_id)
    return [entry.message for entry in view.timeline if entry.kind == kind]


async def test_an_order_in_a_wait_finishes_it_under_its_version_then_takes_the_new_one(
    time_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    await seed(deps.engine, parse_pipeline(WAITING.format(v="v1")))
    async with running_engine(time_env, deps) as engine:
        order = new_order("versioned")
        await engine.orders.create_order(order)
        view = await eventually(lambda: ready_view(engine.orders, order.order_id))
        assert view.pipeline_version == 1
        assert await _store(deps, WAITING.format(v="v2")) == 2  # while the order waits

        await time_env.sleep(timedelta(days=3, minutes=1))
        lines = await eventually(lambda: _log(deps, order.order_id, 2))
        assert lines == ["v1: waited", "v2: next"]  # the wait's chain under v1, the next stage under v2
        view = await engine.orders.state(order.order_id)
        assert (view.stage, view.pipeline_version) == ("next", 2)
        assert await _timeline(engine.orders, order.order_id, "pipeline_version") == [
            "takes version 2 of its pipeline (was 1)"
        ]
        # A new order starts on the newest version.
        later = new_order("versioned")
        await engine.orders.create_order(later)
        assert (await eventually(lambda: ready_view(engine.orders, later.order_id))).pipeline_version == 2


PAID_STAGE = (
    "  - {id: paid, title: Paid, triggers: [{type: payment}], rules: [{type: write_to_log, params: {message: paid}}]}\n"
)
MOVING = (
    "id: moving\ntitle: Moving\nstages:\n  - {id: new, title: New}\n"
    + PAID_STAGE
    + "  - {id: done, title: Done, final: success}\n"
)
RENAMED = MOVING.replace("id: paid, title: Paid", "id: settled, title: Settled").replace(
    "message: paid", "message: settled"
)
DROPPED = MOVING.replace(PAID_STAGE, "")


async def test_a_stage_the_new_version_renamed_takes_the_order_to_its_new_name(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    await seed(deps.engine, parse_pipeline(MOVING))
    async with running_engine(dev_env, deps) as engine:
        order = await started_order(engine.orders, "moving")
        await _store(deps, RENAMED, paid="settled")
        outcome = await engine.orders.apply_event(order.order_id, payment())  # v1's trigger, on 'paid'
        assert outcome.stage == "settled"
        assert await eventually(lambda: _log(deps, order.order_id, 1)) == ["settled"]
        assert await _timeline(engine.orders, order.order_id, "pipeline_version") == [
            "takes version 2 of its pipeline (was 1); its stage 'paid' is 'settled' there"
        ]


async def test_a_removed_stage_with_no_stage_instead_keeps_the_order_on_its_version(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    await seed(deps.engine, parse_pipeline(MOVING))
    async with running_engine(dev_env, deps) as engine:
        order = await started_order(engine.orders, "moving")
        await _store(deps, DROPPED)  # no order is in 'paid': no move needed
        assert (await engine.orders.apply_event(order.order_id, payment())).stage == "paid"
        assert await eventually(lambda: _log(deps, order.order_id, 1)) == ["paid"]
        view = await engine.orders.state(order.order_id)
        assert view.pipeline_version == 1
        assert await _timeline(engine.orders, order.order_id, "pipeline_version") == [
            "stays on version 1 for 'paid': version 2 has no such stage and says of no stage instead"
        ]


async def test_a_stage_the_new_version_moved_onto_the_current_one_changes_nothing(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    review = "  - {id: review, title: Review, triggers: [{type: form_submitted}]}\n"
    await seed(deps.engine, parse_pipeline(MOVING.replace("  - {id: done", review + "  - {id: done")))
    async with running_engine(dev_env, deps) as engine:
        order = await started_order(engine.orders, "moving")
        assert (await engine.orders.apply_event(order.order_id, payment())).stage == "paid"
        await eventually(lambda: _log(deps, order.order_id, 1))
        await _store(deps, MOVING, review="paid")  # 'review' is 'paid' now
        outcome = await engine.orders.apply_event(order.order_id, event("form_submitted", form_id="f"))
        assert (outcome.stage, outcome.moved_from, outcome.message) == ("paid", None, "already at this stage")
        view = await engine.orders.state(order.order_id)
        assert (view.stage, view.pipeline_version) == ("paid", 1)  # not entered again, still on its version
        assert [e.message for e in view.timeline if e.kind == "stage_changed"][-1].startswith(
            "already at 'paid', which is 'review' in version 2: no change"
        )
        assert await _log(deps, order.order_id, 1) == ["paid"]  # its rules did not run again


BURST = """
id: burst
title: Burst
stages:
  - {id: new, title: New}
  - id: first
    title: First
    triggers: [{type: form_submitted}]
    rules: [{type: write_to_log, delay: {after: 2s}, params: {message: "first, 2 s after it came"}}]
  - {id: second, title: Second, triggers: [{type: payment}], rules: [{type: write_to_log, params: {message: "second"}}]}
  - {id: done, title: Done, final: success}
"""


async def test_a_store_write_that_finds_the_worker_knowing_the_newest_version_spares_the_next_check(
    dev_env: WorkflowEnvironment, deps: WorkerResources
) -> None:
    """The rule of ``first`` makes its store write 2 s after the order last learnt its version
    is the newest (the window is 1 s here); the payment comes at once after that write,
    which said so again: ``second`` is entered with no check (before, it was checked)."""
    await seed(deps.engine, parse_pipeline(BURST))
    orders = OrderActivities(deps.engine, deps.writes)
    checks: list[str] = []

    @activity.defn(name=VERSION_AT_ENTRY)
    async def counted(entry: StageEntry) -> VersionAtEntry:
        checks.append(entry.stage)
        return await orders.version_at_entry(entry)

    async with running_engine(dev_env, deps, replacements={VERSION_AT_ENTRY: counted}) as engine:
        order = await started_order(engine.orders, "burst")
        await engine.orders.send_event(order.order_id, event("form_submitted", form_id="f"))
        await eventually(lambda: _stored_finished(deps, order.order_id, 1))
        await engine.orders.send_event(order.order_id, payment())
        await eventually(lambda: _stored_finished(deps, order.order_id, 2))
    assert "second" not in checks, checks


async def _stored_finished(deps: WorkerResources, order_id: str, count: int) -> bool:
    """The store has the order's ``count``-th rule_finished entry (its store write is done)."""
    async with session(deps.engine) as db:
        entries = await read_timeline(db, order_id)
    return sum(entry.kind == "rule_finished" for entry in entries) >= count


STEPS = """
id: steps
title: Steps
stages:
  - {id: s0, title: S0}
  - {id: s1, title: S1, triggers: [{type: form_submitted}]}
  - {id: s2, title: S2, triggers: [{type: form_submitted}]}
  - {id: s3, title: S3, triggers: [{type: form_submitted}]}
  - {id: s4, title: S4, triggers: [{type: form_submitted}], final: success}
"""


def _counting(deps: WorkerResources, checks: list[str]) -> dict[str, Any]:
    """The version check, each stage it is asked for added to ``checks``."""
    orders = OrderActivities(deps.engine, deps.writes)

    @activity.defn(name=VERSION_AT_ENTRY)
    async def counted(entry: StageEntry) -> VersionAtEntry:
        checks.append(entry.stage)
        return await orders.version_at_entry(entry)

    return {VERSION_AT_ENTRY: counted}


async def test_an_order_asks_for_its_version_after_a_minute_or_once_one_is_announced(
    time_env: WorkflowEnvironment, deps: WorkerResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An order that learnt it runs the newest version (at its start, from a check or a store
    write) enters its next stages without asking until ``VERSION_ASKED_AFTER`` (a minute) has
    passed by its clock, unless a newer version than its own is announced to it meanwhile
    (asked once, even for a version the store does not have: an announcement is a hint)."""
    real_windows(monkeypatch)
    await seed(deps.engine, parse_pipeline(STEPS))
    checks: list[str] = []
    async with running_engine(time_env, deps, replacements=_counting(deps, checks)) as engine:
        order = await started_order(engine.orders, "steps")
        steps = [(2, "s1", []), (2, "s2", ["s2"]), (2, "s3", ["s2"]), (61, "s4", ["s2", "s4"])]
        hints = {"s2": 9, "s3": 1}  # version 1 is the one it runs: no check for that one
        for pause, stage, asked in steps:
            await time_env.sleep(timedelta(seconds=pause))
            if stage in hints:
                hint = {"pipeline_id": "steps", "number": hints[stage]}
                await engine.orders.handle(order.order_id).signal("pipeline_version", hint)
            outcome = await engine.orders.apply_event(order.order_id, event("form_submitted", form_id="f"))
            assert (outcome.stage, checks) == (stage, asked)


async def _signalled(orders: OrderClient, order_id: str) -> bool:
    history = await orders.handle(order_id).fetch_history()
    return any(e.workflow_execution_signaled_event_attributes.signal_name == "pipeline_version" for e in history.events)


async def test_an_announced_version_reaches_a_running_order_at_its_next_stage_entry(
    dev_env: WorkflowEnvironment, deps: WorkerResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the API and the CLI do after storing a version: the running orders of the pipeline
    hear of it (a batch operation on the server) and take it at once, within the minute they
    would otherwise wait."""
    real_windows(monkeypatch)
    await seed(deps.engine, parse_pipeline(STEPS))
    async with running_engine(dev_env, deps) as engine:
        order = await started_order(engine.orders, "steps")
        running = f"OrderPipeline = 'steps' AND WorkflowId = '{workflow_id(order.order_id)}'"
        await eventually(lambda: _listed(engine.orders, running))
        async with session(deps.engine) as db:
            stored = await save_pipeline(db, parse_pipeline(STEPS.replace("title: S1", "title: Step one")))
            await db.commit()
        # Twice at once, as a copy storing two pipelines does: the server runs one batch
        # operation at a time, and the second waits its turn (it was refused before).
        assert await engine.orders.announce_version("steps", stored.version.number)
        assert await engine.orders.announce_version("steps", stored.version.number)
        await eventually(lambda: _signalled(engine.orders, order.order_id))
        await engine.orders.apply_event(order.order_id, event("form_submitted", form_id="f"))
        view = await engine.orders.state(order.order_id)
    assert (view.stage, view.stage_title, view.pipeline_version) == ("s1", "Step one", 2)


async def _listed(orders: OrderClient, query: str) -> bool:
    return [w async for w in orders.client.list_workflows(query)] != []


async def test_an_announced_version_is_read_from_the_store_not_from_what_the_worker_read_lately(
    deps: WorkerResources,
) -> None:
    """The worker took version 1 for the newest a moment ago; an order told of version 2
    asks, and the store answers (without the announcement, the worker's memory does)."""
    await seed(deps.engine, parse_pipeline(STEPS))
    async with session(deps.engine) as db:
        await save_pipeline(db, parse_pipeline(STEPS.replace("title: S1", "title: Step one")))
        await db.commit()
    remember_newest("steps", 1)
    orders = OrderActivities(deps.engine, deps.writes)
    entry = StageEntry(pipeline_id="steps", number=1, stage="s1")

    assert (await orders.version_at_entry(entry)).outcome == "current"
    found = await orders.version_at_entry(entry.model_copy(update={"announced": 2}))
    assert (found.outcome, found.number, found.stage) == ("newest", 2, "s1")
