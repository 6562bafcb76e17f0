"""The hand-over to a new run: on a dev server that suggests continue-as-new after 40
history events, an order lives through several runs and loses nothing."""

from __future__ import annotations

import asyncio

from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.pipeline import Pipeline
from automation.state import OrderView
from store.database import session
from store.orders import read_timeline
from store.tables import Comment, Notification
from tests.conftest import Engine, Mailbox, running_engine, seed
from tests.helpers import WAIT, event, eventually, new_order, payment, ready_view, responsible_is


async def test_stage_variables_waits_and_events_survive_continue_as_new(
    small_history_env: WorkflowEnvironment, deps: WorkerResources, smtp: Mailbox, example_pipeline: Pipeline
) -> None:
    await seed(deps.engine, example_pipeline)
    async with running_engine(small_history_env, deps) as engine:
        order = new_order()
        await engine.orders.create_order(order)
        await eventually(lambda: _numbered(engine, order.order_id))
        pay = payment()
        await engine.orders.apply_event(order.order_id, pay)
        before = await eventually(lambda: _waiting(engine, order.order_id))
        number = before.variables["order_number"]

        # A burst of events that move nothing (paid again): the history grows past the bound meanwhile.
        burst = [event("payment", amount=i, currency="EUR") for i in range(30)]
        await asyncio.gather(*(engine.orders.send_event(order.order_id, e) for e in burst))
        last = event("payment", amount=1, currency="EUR")
        await engine.orders.apply_event(order.order_id, last)

        after = await engine.orders.state(order.order_id)
        assert after.runs >= 2
        assert (after.stage, after.variables["order_number"]) == ("paid", number)
        statuses = {r.title: r.status for r in after.rules}
        assert (statuses[WAIT], statuses["Payment receipt"], statuses["Packed"]) == ("waiting", "done", "pending")
        repeat = await engine.orders.apply_event(order.order_id, burst[0])
        assert repeat.status == "duplicate"

        mail = event("email_received")
        await engine.orders.send_event(order.order_id, mail)
        await eventually(lambda: _notifications(deps, order.order_id))
        await eventually(lambda: responsible_is(engine.orders, order.order_id, "emp-warehouse"))

    async with session(deps.engine) as db:
        timeline = await read_timeline(db, order.order_id)
        comments = list(await db.exec(select(Comment).where(Comment.order_id == order.order_id)))
    messages = [e.message for e in timeline]
    assert [e.seq for e in timeline] == list(range(1, len(timeline) + 1))
    received = [e.data["event"]["event_id"] for e in timeline if e.kind == "event_received"]
    sent = [e["event_id"] for e in [pay, *burst, last, mail]]
    assert sorted(i for i in received if i in sent) == sorted(sent)  # each exactly once
    assert sum("handed over to run" in m for m in messages) >= 1
    assert sum("waiting for customer activity" in m for m in messages) == 1
    assert len(comments) == 1
    assert len(await _notifications(deps, order.order_id)) == 1
    assert len([m for m in smtp.messages if "payment received" in m["Subject"]]) == 1


async def _numbered(engine: Engine, order_id: str) -> bool:
    view = await ready_view(engine.orders, order_id)
    return view is not None and "order_number" in view.variables


async def _waiting(engine: Engine, order_id: str) -> OrderView | None:
    view = await engine.orders.state(order_id)
    statuses = {r.title: r.status for r in view.rules}
    return view if (statuses[WAIT], statuses["Payment receipt"]) == ("waiting", "done") else None


async def _notifications(deps: WorkerResources, order_id: str) -> list[str]:
    async with session(deps.engine) as db:
        return list(await db.exec(select(Notification.text).where(Notification.order_id == order_id)))
