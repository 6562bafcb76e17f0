"""Many orders left open on one box, as ``make run`` keeps them: the dev server with its state
in a file, ``worker.py`` as its own process, the SQLite store. Each order waits (a Wait rule,
a timer of 3 days). Prints the creation rate, the worker's and the server's memory, the
database sizes, the latency of events to a random sample of them, and how long a restart of
the worker takes before it answers again.

    uv run python -m bench.open_orders [--orders 100000] [--at-once 50] [--sample 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

from automation import search
from automation.order import NewOrder
from automation.pipeline import parse_pipeline
from bench.harness import Server, dev_server, percentile, rss_mib
from config import Settings
from encryption import new_key
from order_client import OrderClient, connect
from store.database import make_engine, session
from store.pipelines import save_pipeline
from store.schema import migrate

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD_KEYS = new_key("bench")
WAITING = parse_pipeline("""
id: bench-open
title: Bench open orders
stages:
  - id: waiting
    title: Waiting for the customer
    rules: [{type: wait, params: {timeout: {after: 3d}}}]
  - {id: answered, title: Answered, final: success, triggers: [{type: form_submitted}]}
""")


@asynccontextmanager
async def worker_process(server: Server, database_url: str, task_queue: str, folder: Path) -> AsyncIterator[int]:
    """``worker.py`` as its own process, as an operator runs it; yields its pid."""
    env = {**os.environ, "TEMPORAL_ADDRESS": server.address, "TASK_QUEUE": task_queue, "DATA_DIR": str(folder),
           "DATABASE_URL": database_url, "TRACKING_SECRET": "bench", "PAYLOAD_KEYS": PAYLOAD_KEYS}  # fmt: skip
    log = (folder / "worker.log").open("ab")
    process = await asyncio.create_subprocess_exec(sys.executable, str(ROOT / "worker.py"), cwd=ROOT, env=env,
                                                   stdout=log, stderr=log)  # fmt: skip
    try:
        yield process.pid
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await process.wait()
        log.close()


def _event(order_id: str) -> dict[str, object]:
    return {"event_id": f"{order_id}-answer", "type": "form_submitted", "data": {"form_id": "f"},
            "occurred_at": datetime.now(UTC).isoformat()}  # fmt: skip


PROGRESS_EVERY = 300.0
"""Seconds between progress lines: a long run shows its pace (and its figures so far) as it goes."""


async def _create(orders: OrderClient, count: int, at_once: int, worker: int) -> list[str]:
    ids = [f"open-{i}" for i in range(count)]
    slots = asyncio.Semaphore(at_once)
    created = 0

    async def one(order_id: str) -> None:
        nonlocal created
        async with slots:
            await orders.create_order(NewOrder(order_id=order_id, pipeline_id=WAITING.id))
            created += 1

    creating = asyncio.gather(*(one(order_id) for order_id in ids))
    await _reporting(creating, lambda: f"{created:,} started", worker)
    return ids


async def _all_waiting(orders: OrderClient, count: int, worker: int) -> None:
    """Until every order shows its first stage to the server's visibility (its first tasks ran)."""
    query = f"{search.ORDER_PIPELINE.name} = '{WAITING.id}' AND {search.ORDER_STAGE.name} = 'waiting'"
    waiting = 0

    async def until_all() -> None:
        nonlocal waiting
        while (waiting := (await orders.client.count_workflows(query)).count) < count:
            await asyncio.sleep(1)

    await _reporting(until_all(), lambda: f"{waiting:,} waiting", worker)


async def _reporting(work: Awaitable[object], progress: Callable[[], str], worker: int) -> None:
    """Awaits ``work``, printing ``progress()`` and the worker's memory every ``PROGRESS_EVERY`` s."""
    task, start = asyncio.ensure_future(work), time.perf_counter()
    while not task.done():
        await asyncio.wait([task], timeout=PROGRESS_EVERY)
        if not task.done():
            print(f"  {time.perf_counter() - start:.0f} s: {progress()}; worker {rss_mib(worker):.0f} MiB", flush=True)
    task.result()


async def _answer_ms(orders: OrderClient, order_id: str) -> float:
    start = time.perf_counter()
    await orders.apply_event(order_id, _event(order_id))
    return (time.perf_counter() - start) * 1000


def _mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20  # with -wal, -shm


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--at-once", type=int, default=50, help="creations in flight")
    parser.add_argument("--sample", type=int, default=200, help="orders sent an event afterwards")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        temporal_db, store_db = folder / "temporal.db", folder / "orders.db"
        database_url = f"sqlite:///{store_db}"
        engine = make_engine(database_url)
        await migrate(engine)
        async with session(engine) as db:
            await save_pipeline(db, WAITING)
            await db.commit()
        await engine.dispose()
        async with dev_server(temporal_db) as server:
            client = await connect(Settings(payload_keys=PAYLOAD_KEYS), target_host=server.address)
            orders = OrderClient(client, task_queue="bench-open")
            async with worker_process(server, database_url, "bench-open", folder) as worker:
                start = time.perf_counter()
                ids = await _create(orders, args.orders, args.at_once, worker)
                started = time.perf_counter() - start
                await _all_waiting(orders, args.orders, worker)
                settled = time.perf_counter() - start
                print(f"orders: {args.orders:,} started in {started:.0f} s ({args.orders / started:.0f}/s), "
                      f"all waiting after {settled:.0f} s ({args.orders / settled:.0f}/s)")  # fmt: skip
                print(f"worker memory: {rss_mib(worker):.0f} MiB; server memory: {rss_mib(server.pid):.0f} MiB; "
                      f"temporal.db {_mib(temporal_db):.0f} MiB, orders.db {_mib(store_db):.0f} MiB")  # fmt: skip
                sample = random.Random(7).sample(ids[:-1], min(args.sample, len(ids) - 1))
                took, unanswered = [], 0
                for order_id in sample[1:]:
                    try:
                        took.append(await _answer_ms(orders, order_id))
                    except WorkflowUpdateRPCTimeoutOrCancelledError:
                        unanswered += 1  # not answered within OrderClient's 10 s
                print(f"event -> stage change on {len(took)} random waiting orders: "
                      f"p50 {percentile(took, 0.5):.0f} ms, p99 {percentile(took, 0.99):.0f} ms; "
                      f"{unanswered} not answered within 10 s")  # fmt: skip
            # Stopped as a deployment stops it (SIGTERM), then a new one: until an event is answered.
            restart = time.perf_counter()
            async with worker_process(server, database_url, "bench-open", folder):
                while True:
                    try:
                        await _answer_ms(orders, sample[0])
                        break
                    except WorkflowUpdateRPCTimeoutOrCancelledError:
                        continue  # not served yet (the order's tasks wait on the old worker's sticky queue first)
                print(f"worker restart: {time.perf_counter() - restart:.1f} s until it answered an event")


if __name__ == "__main__":
    asyncio.run(main())
