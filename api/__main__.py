"""Runs the HTTP API alone: ``uv run python -m api`` (the worker runs apart, ``worker.py``)."""

from __future__ import annotations

import asyncio

from api.app import create_app
from api.server import serving
from config import Settings, with_tracking_secret
from order_client import OrderClient, connect
from store.database import make_engine
from store.schema import migrate


async def main() -> None:
    settings = with_tracking_secret(Settings())
    engine = make_engine(settings.database)
    await migrate(engine)
    orders = OrderClient(await connect(settings), settings.task_queue)
    async with serving(create_app(orders, engine, settings), settings.api_host, settings.api_port) as url:
        print(f"API on {url} (docs: {url}/docs)", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
