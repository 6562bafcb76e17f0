"""A worker killed while it sends a message. After the message was handed over, before
its answer was recorded: it is not sent again. Before it was handed over: the retry sends
it, once.

The worker runs as its own process (``worker.py``); the SMS provider or the SMTP server on
loopback kills it right after taking the message, so that it never learns it went out. A
new worker takes the rule over once its heartbeat times out, finds the message marked as
being sent, and records it as unconfirmed instead of sending it a second time."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from automation.order import NewOrder
from automation.pipeline import Pipeline, parse_pipeline
from automation.state import OrderView
from order_client import OrderClient
from store.database import session
from store.orders import read_timeline
from store.tables import SentMessage, TimelineRecord
from tests.conftest import ROOT, Mailbox, running_engine, seed
from tests.helpers import event, eventually, new_order
from tests.providers_server import ProvidersServer

RULES = {
    "sms": '{type: send_sms, params: {text: "Order {{ order.id }} received"}}',
    "email": '{type: send_email, params: {subject: "Order {{ order.id }}", body: "Received, thank you."}}',
}


def _pipeline(channel: str) -> Pipeline:
    return parse_pipeline(f"""
id: crash-{channel}
title: Crash
stages:
  - id: new
    title: New
    rules:
      - {RULES[channel]}
  - {{id: done, title: Done, final: success}}
""")


def _worker_environment(
    env: WorkflowEnvironment, deps: WorkerResources, task_queue: str, data_dir: Path
) -> dict[str, str]:
    settings = deps.settings
    values = {
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": env.client.namespace,
        "TASK_QUEUE": task_queue,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": deps.engine.url.render_as_string(hide_password=False),
        "SMTP_PORT": str(settings.smtp_port),
        "TRACKING_SECRET": settings.tracking_secret,
        "PAYLOAD_KEYS": settings.payload_keys,
        "SMS_BASE_URL": settings.sms_base_url,
        "SMS_ACCOUNT_SID": settings.sms_account_sid,
        "SMS_AUTH_TOKEN": settings.sms_auth_token,
    }
    return {**os.environ, **values}


class _DoomedWorker:
    """``worker.py`` as its own process, for a test's hook to kill (SIGKILL) mid-send."""

    def __init__(self, process: asyncio.subprocess.Process, orders: OrderClient) -> None:
        self.process, self.orders = process, orders

    @classmethod
    async def start(
        cls, env: WorkflowEnvironment, deps: WorkerResources, task_queue: str, data_dir: Path
    ) -> _DoomedWorker:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "worker.py"), cwd=ROOT,
            env=_worker_environment(env, deps, task_queue, data_dir),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        return cls(process, OrderClient(env.client, task_queue=task_queue))

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)

    async def dies_working(self, order: NewOrder) -> None:
        """Creates ``order`` for this worker to work, until a hook has killed it."""
        try:
            await self.orders.create_order(order)
            assert await asyncio.wait_for(self.process.wait(), 30) == -signal.SIGKILL
        finally:
            if self.process.returncode is None:
                self.process.kill()


@pytest.mark.parametrize("channel", ["sms", "email"])
async def test_a_worker_killed_after_sending_does_not_send_again(
    channel: str, dev_env: WorkflowEnvironment, deps: WorkerResources, providers_server: ProvidersServer, smtp: Mailbox,
    tmp_path: Path,
) -> None:  # fmt: skip
    pipeline = _pipeline(channel)
    await seed(deps.engine, pipeline)
    task_queue = f"crash-test-{channel}"
    worker = await _DoomedWorker.start(dev_env, deps, task_queue, tmp_path)

    def taken() -> list[object]:
        return list(providers_server.requests) if channel == "sms" else list(smtp.messages)

    kill = worker.kill
    providers_server.on_delivery, smtp.on_message = (kill, None) if channel == "sms" else (None, kill)
    order = new_order(pipeline.id)
    await worker.dies_working(order)
    assert len(taken()) == 1
    providers_server.on_delivery = smtp.on_message = None

    async with running_engine(dev_env, deps, task_queue=task_queue):  # the replacement worker
        row = await eventually(lambda: _settled(deps, order.order_id), timeout=60)
        messages = [e.message for e in await eventually(lambda: _finished(deps, order.order_id))]

    assert len(taken()) == 1  # the replacement did not send it again
    assert (row.status, row.note) == ("unconfirmed", "the worker stopped while handing it over")
    what = "SMS" if channel == "sms" else "e-mail"
    assert any(f"{what} to " in m and "unconfirmed (the worker stopped while handing it over)" in m for m in messages)


async def _settled(deps: WorkerResources, order_id: str) -> SentMessage | None:
    async with session(deps.engine) as db:
        row = (await db.exec(select(SentMessage).where(SentMessage.order_id == order_id))).first()
    return row if row is not None and row.status not in ("pending", "sending", "handing_over") else None


async def _finished(deps: WorkerResources, order_id: str) -> list[TimelineRecord] | None:
    async with session(deps.engine) as db:
        entries = await read_timeline(db, order_id)
    return entries if any(e.kind == "rule_finished" for e in entries) else None


async def test_a_worker_killed_before_handing_the_message_over_leaves_it_to_the_retry(
    dev_env: WorkflowEnvironment, deps: WorkerResources, smtp: Mailbox, tmp_path: Path
) -> None:
    """Killed while the SMTP session is at its greeting: nothing went out, so the
    replacement worker sends the e-mail, exactly once."""
    pipeline = _pipeline("email")
    await seed(deps.engine, pipeline)
    task_queue = "crash-test-greeting"
    worker = await _DoomedWorker.start(dev_env, deps, task_queue, tmp_path)
    smtp.on_greeting = worker.kill
    order = new_order(pipeline.id)
    await worker.dies_working(order)
    smtp.on_greeting = None
    assert smtp.messages == []

    async with running_engine(dev_env, deps, task_queue=task_queue):
        row = await eventually(lambda: _settled(deps, order.order_id), timeout=60)
        messages = [e.message for e in await eventually(lambda: _finished(deps, order.order_id))]
    assert (row.status, len(smtp.messages)) == ("sent", 1)
    assert any("e-mail sent to " in m for m in messages)


async def test_a_message_held_by_a_dead_worker_is_settled_when_its_rule_stops(
    dev_env: WorkflowEnvironment, deps: WorkerResources, providers_server: ProvidersServer, tmp_path: Path
) -> None:
    """Killed while the SMS provider takes the message, and the order paid (it leaves the
    stage) before any retry: no attempt will finish the message, so the order settles it,
    unconfirmed, counted and listed for an operator; it is not sent again."""
    pipeline = parse_pipeline(f"""
id: crash-then-move
title: Crash, then move
stages:
  - id: new
    title: New
    rules:
      - {RULES["sms"]}
  - {{id: paid, title: Paid, final: success, triggers: [{{type: payment}}]}}
""")
    await seed(deps.engine, pipeline)
    task_queue = "crash-test-then-move"
    worker = await _DoomedWorker.start(dev_env, deps, task_queue, tmp_path)
    providers_server.on_delivery = worker.kill
    order = new_order(pipeline.id)
    await worker.dies_working(order)
    orders = OrderClient(dev_env.client, task_queue=task_queue)
    providers_server.on_delivery = None
    await orders.send_event(order.order_id, event("payment", amount=10, currency="EUR"))

    async with running_engine(dev_env, deps, task_queue=task_queue):
        row = await eventually(lambda: _settled(deps, order.order_id), timeout=60)
        view = await eventually(lambda: _counted(orders, order.order_id), timeout=30)
    assert (row.status, row.note) == ("unconfirmed", "the worker stopped while handing it over")
    assert len(providers_server.requests) == 1
    assert view.stage == "paid"
    assert any(e.kind == "message_unconfirmed" for e in view.timeline)


async def _counted(orders: OrderClient, order_id: str) -> OrderView | None:
    view = await orders.state(order_id)
    return view if view.unconfirmed_messages == 1 else None
