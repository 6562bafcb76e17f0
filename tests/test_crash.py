"""A worker killed between sending a message and recording it: the message is sent once.

The worker runs as its own process (``worker.py``); the SMS provider on loopback kills it
right after delivering, so that it never learns the message went out. A new worker takes
over the rule after its heartbeat times out, sends again with the same idempotency key,
and the provider delivers nothing new."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from activities.rules.base import Deps
from automation.pipeline import parse_pipeline
from order_client import OrderClient
from store.database import session
from store.tables import SentMessage
from tests.conftest import ROOT, running_engine, seed
from tests.helpers import eventually, new_order
from tests.providers_server import ProvidersServer

PIPELINE = parse_pipeline("""
id: texting
title: Texting
stages:
  - id: new
    title: New
    rules:
      - {type: send_sms, params: {text: "Order {{ order.id }} received"}}
  - {id: done, title: Done, final: success}
""")


def _worker_environment(env: WorkflowEnvironment, deps: Deps, task_queue: str, data_dir: Path) -> dict[str, str]:
    settings = deps.settings
    values = {
        "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": env.client.namespace,
        "TASK_QUEUE": task_queue,
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": deps.engine.url.render_as_string(hide_password=False),
        "SMTP_PORT": str(settings.smtp_port),
        "TRACKING_SECRET": settings.tracking_secret,
        "SMS_BASE_URL": settings.sms_base_url,
        "SMS_ACCOUNT_SID": settings.sms_account_sid,
        "SMS_AUTH_TOKEN": settings.sms_auth_token,
    }
    return {**os.environ, **values}


async def test_a_worker_killed_after_sending_does_not_send_twice(
    dev_env: WorkflowEnvironment, deps: Deps, providers_server: ProvidersServer, tmp_path: Path
):
    await seed(deps.engine, PIPELINE)
    task_queue = "crash-test"
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "worker.py"), cwd=ROOT,
        env=_worker_environment(dev_env, deps, task_queue, tmp_path),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    providers_server.on_delivery = lambda: os.kill(process.pid, signal.SIGKILL)
    try:
        order = new_order("texting")
        await OrderClient(dev_env.client, task_queue=task_queue).create_order(order)  # the subprocess works it
        assert await asyncio.wait_for(process.wait(), 30) == -signal.SIGKILL
    finally:
        if process.returncode is None:
            process.kill()
    assert len(providers_server.delivered) == 1
    providers_server.on_delivery = None

    async with running_engine(dev_env, deps, task_queue=task_queue):  # the replacement worker
        row = await eventually(lambda: _sent(deps, order.order_id), timeout=60)

    assert len(providers_server.delivered) == 1  # the retry reached the provider, which knew it
    assert len([r for r in providers_server.requests if r.kind == "sms"]) == 2
    assert row.message_id == providers_server.delivered[0].id


async def _sent(deps: Deps, order_id: str) -> SentMessage | None:
    async with session(deps.engine) as db:
        row = (await db.exec(select(SentMessage).where(SentMessage.order_id == order_id))).first()
    return row if row is not None and row.status == "sent" else None
