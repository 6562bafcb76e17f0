"""The main job, on one machine: the Temporal dev server (unless ``TEMPORAL_ADDRESS``
points at a cluster), a mail catcher (unless ``SMTP_HOST`` is set), the worker, and the
example pipeline with one demo order. ``make run`` starts it; Ctrl-C stops it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.envconfig import ClientConfig
from temporalio.service import RPCError, RPCStatusCode

from activities.rules.base import WorkerResources
from api.app import create_app
from api.server import serving
from automation.order import ContactPoint, CustomerInfo, NewOrder, ShipmentInfo
from automation.pipeline import load_pipeline
from config import Settings, with_tracking_secret
from devserver import embedded_dev_server, mail_catcher, port_open, provider_sandbox, sandbox_settings
from order_client import OrderClient, connect
from starter import load_directory, load_pipeline_file
from store.access import create_key, key_of, local_actor
from store.database import session
from store.schema import migrate
from worker import build_deps, build_worker, configure_logging

EXAMPLE_PIPELINE = "examples/online_store.yaml"
EXAMPLE_DIRECTORY = "examples/directory.yaml"
SANDBOX_PORT = 8025
LOCAL_KEY = "local (make run)"


async def local_key(engine: AsyncEngine, data_dir: Path) -> Path:
    """The file that holds this machine's admin key to the API: the one an earlier run made
    while it is valid, else a new one (readable by this user only)."""
    kept = data_dir / "api_key"
    async with session(engine) as db:
        if kept.exists():
            key = await key_of(db, kept.read_text().strip())
            if key is not None and key.revoked_at is None:
                return kept
        made = await create_key(db, LOCAL_KEY, ["admin"], None, local_actor())
        await db.commit()
    kept.touch(mode=0o600)
    kept.write_text(made.secret + "\n")
    return kept


async def demo_order(orders: OrderClient, data_dir: Path) -> str:
    """The demo order: the one an earlier run made (its id kept in the data folder) while
    Temporal still has it, else a new one. Every ``make run`` shows the same order."""
    kept = data_dir / "demo_order"
    if kept.exists():
        order_id = kept.read_text().strip()
        try:
            await orders.handle(order_id).describe()
            return order_id
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
    order_id = f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    await orders.create_order(
        NewOrder(
            order_id=order_id,
            pipeline_id=load_pipeline(EXAMPLE_PIPELINE).id,
            responsible_id="emp-sales",
            customer=CustomerInfo(
                id=f"cust-{uuid.uuid4().hex[:6]}",
                first_name="Ada",
                last_name="Lovelace",
                emails=[ContactPoint(type="work", value="ada@example.com")],
                phones=[ContactPoint(type="mobile", value="+15550100")],
            ),
            fields={"number": order_id, "total": 120.5, "currency": "EUR"},
            shipments=[ShipmentInfo(id=f"{order_id}-1", delivery_service="ups")],
        )
    )
    kept.write_text(f"{order_id}\n")
    return order_id


def cluster_address() -> str | None:
    """The Temporal cluster that Temporal's standard configuration names (``TEMPORAL_ADDRESS``
    or a ``temporal.toml`` profile), or None: then the embedded dev server runs."""
    address = ClientConfig.load_client_connect_config().get("target_host")
    return str(address) if address else None


def uv_command() -> str:
    """How to call uv from here: ``uv`` if it is on the PATH, else the one ``make`` installed."""
    return "uv" if shutil.which("uv") else ".tools/bin/uv"


def banner(
    settings: Settings, order_id: str, mail_folder: str | None, sandbox: str | None, ui: str, key_file: Path
) -> str:
    data = '{"amount": 120.5, "currency": "EUR", "payment_id": "pay-1"}'
    uv = uv_command()
    api = f"http://{settings.api_host}:{settings.api_port}"
    lines = [
        "",
        "Order automation is running.",
        f'  Temporal Web UI:  {ui}  (filter: OrderStage = "paid")',
        f"  HTTP API:         {api}/docs  (an admin key for it is in {key_file})",
        f"  UI decoding:      sign in at {api}/codec/sign-in (README: the codec server)",
        f"  Store:            {settings.database}",
        f"  Demo order:       {order_id}",
        f"  Sent mail:        {mail_folder}" if mail_folder else f"  SMTP:             {settings.smtp_host}",
        f"  SMS, calls, chat: {sandbox} (provider sandbox)"
        if sandbox
        else f"  SMS provider:     {settings.sms_base_url}",
        "Try, in another terminal:",
        f"  {uv} run python starter.py send-event {order_id} payment --data '{data}' --wait",
        f"  {uv} run python starter.py send-event {order_id} email_received",
        f"  {uv} run python starter.py show {order_id}",
        f"  {uv} run python starter.py list --stage paid",
        f"  export ORDERS_API_KEY=$(cat {key_file})",
        f'  curl -s -H "Authorization: Bearer $ORDERS_API_KEY" {api}/orders/{order_id}',
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


async def _until_stopped() -> None:
    """Returns on Ctrl-C or SIGTERM, so the dev server is always stopped with us."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    await stop.wait()
    print("stopping", flush=True)


async def main() -> None:
    configure_logging()
    settings = with_tracking_secret(Settings())
    async with AsyncExitStack() as stack:
        ui, cluster = "http://127.0.0.1:8233", cluster_address()
        if cluster is None:
            codec = f"http://{settings.api_host}:{settings.api_port}/codec"
            await stack.enter_async_context(embedded_dev_server(settings.data_dir, codec_endpoint=codec))
        else:
            ui = f"your cluster's Web UI (Temporal at {cluster})"
        mail_folder = None
        if "SMTP_HOST" not in os.environ and not port_open(settings.smtp_host, settings.smtp_port):
            mail_folder = str(settings.data_dir / "mail")
            stack.enter_context(mail_catcher(settings.data_dir / "mail", settings.smtp_port))
        sandbox = None
        if "SMS_BASE_URL" not in os.environ:
            sandbox = str(settings.data_dir / "providers")
            app = provider_sandbox(settings.data_dir / "providers")
            url = await stack.enter_async_context(serving(app, "127.0.0.1", SANDBOX_PORT))
            settings = settings.model_copy(update=sandbox_settings(url))
        deps: WorkerResources = build_deps(settings)
        await migrate(deps.engine)
        key_file = await local_key(deps.engine, settings.data_dir)
        await load_pipeline_file(EXAMPLE_PIPELINE)
        await load_directory(EXAMPLE_DIRECTORY)
        client = await connect(settings)
        orders = OrderClient(client, settings.task_queue)
        app = create_app(orders, deps.engine, settings)
        await stack.enter_async_context(serving(app, settings.api_host, settings.api_port))
        async with build_worker(client, deps):
            order_id = await demo_order(orders, settings.data_dir)
            print(banner(settings, order_id, mail_folder, sandbox, ui, key_file), flush=True)
            await _until_stopped()


if __name__ == "__main__":
    asyncio.run(main())
