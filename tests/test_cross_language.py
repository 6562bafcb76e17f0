"""A service in another language signals an order with its own Temporal SDK: the payload
is plain JSON (schema: docs/event.schema.json). The `temporal` CLI stands in for it; it
reads the order's answers, which are encrypted, through the codec server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from activities.rules.base import WorkerResources
from api.app import create_app
from api.server import serving
from automation.events import event_json_schema
from automation.state import OrderView
from tests.api.conftest import new_key
from tests.conftest import Engine, _binary, running_engine, seed
from tests.helpers import eventually, new_order, ready_view
from tests.test_engine import PIPELINE

SCHEMA = Path(__file__).parent.parent / "docs" / "event.schema.json"


async def _temporal(env: WorkflowEnvironment, *args: str, codec: tuple[str, ...] = ()) -> str:
    address = env.client.service_client.config.target_host
    process = await asyncio.create_subprocess_exec(
        _binary("temporal"), *args, "--address", address, "--namespace", env.client.namespace, *codec,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_the_temporal_cli_signals_and_updates_an_order_with_plain_json(
    dev_env: WorkflowEnvironment, deps: WorkerResources, api_port: int
) -> None:
    await seed(deps.engine, PIPELINE)
    async with (
        running_engine(dev_env, deps) as engine,
        serving(create_app(engine.orders, deps.engine, deps.settings), "127.0.0.1", api_port) as url,
    ):
        codec = ("--codec-endpoint", f"{url}/codec", "--codec-auth", f"Bearer {await new_key(deps.engine)}")
        order = new_order("test")
        await engine.orders.create_order(order)
        await eventually(lambda: ready_view(engine.orders, order.order_id))
        workflow_id = f"order-{order.order_id}"
        payment = {"event_id": "cli-pay-1", "type": "payment", "data": {"amount": 10, "currency": "EUR"},
                   "occurred_at": "2026-11-22T10:00:00Z"}  # fmt: skip
        await _temporal(dev_env, "workflow", "signal", "--workflow-id", workflow_id, "--name", "event",
                        "--input", json.dumps(payment))  # fmt: skip
        view = await eventually(lambda: _at(engine, order.order_id, "waiting"))
        assert view.stage == "waiting"

        webhook = {"event_id": "cli-hook-1", "type": "webhook", "data": {"code": "slow"},
                   "occurred_at": "2026-11-22T10:01:00Z"}  # fmt: skip
        out = await _temporal(dev_env, "workflow", "update", "execute", "--workflow-id", workflow_id,
                              "--name", "apply_event", "--input", json.dumps(webhook), "--output", "json",
                              codec=codec)  # fmt: skip
        result = json.loads(out)["result"]
        assert (result["status"], result["moved_from"], result["stage"]) == ("applied", "waiting", "slow")

        state = await _temporal(dev_env, "workflow", "query", "--workflow-id", workflow_id, "--type", "state",
                                "--output", "json", codec=codec)  # fmt: skip
        assert json.loads(state)["queryResult"][0]["stage"] == "slow"


async def _at(engine: Engine, order_id: str, stage: str) -> OrderView | None:
    view = await ready_view(engine.orders, order_id)
    return view if view is not None and view.stage == stage else None


def test_the_documented_event_schema_is_current() -> None:
    assert json.loads(SCHEMA.read_text()) == event_json_schema(), "regenerate: uv run python starter.py event-schema"
