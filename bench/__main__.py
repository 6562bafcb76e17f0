"""``make bench``: the engine against the minimal entity workflow, interleaved on one dev
server, repeated; prints medians and engine/baseline ratios.

    uv run python -m bench [--repeat 3] [--quick] [--stores sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from bench import figures
from bench.harness import Server, dev_server, median, store
from bench.systems import System, running_baseline, running_engine
from config import Settings
from encryption import new_key
from order_client import connect

Row = tuple[str, str]  # (figure, system)
STEADY_EVENTS = 10
"""Events per entity in the steady state."""


class Results:
    def __init__(self) -> None:
        self.values: dict[Row, list[float]] = defaultdict(list)
        self.history: dict[str, str] = {}
        """By system: the shape of one full life's history."""

    def add(self, figure: str, system: str, value: float) -> None:
        self.values[figure, system].append(value)
        print(f"  {figure:<44} {system:<26} {value:10.2f}", flush=True)

    def median(self, figure: str, system: str) -> float | None:
        values = self.values.get((figure, system))
        return median(values) if values else None


@asynccontextmanager
async def systems(server: Server, stores: list[str], folder: Path) -> AsyncIterator[list[System]]:
    client = await connect(Settings(payload_keys=new_key("bench")), target_host=server.address)
    async with AsyncExitStack() as stack:
        running: list[System] = [await stack.enter_async_context(running_baseline(client))]
        for kind in stores:
            engine = await stack.enter_async_context(store(kind, folder))
            running.append(await stack.enter_async_context(running_engine(client, engine, f"engine ({kind})")))
        yield running


async def one_round(server: Server, systems: list[System], results: Results, quick: bool) -> None:
    orders = 20 if quick else 100
    for system in systems:
        cost, keys = await figures.steady_state(system, server.pid, orders=orders, events=STEADY_EVENTS)
        results.add("steady state, events/s", system.name, cost.per_second)
        results.add("steady state, worker+client CPU ms/event", system.name, cost.worker_ms)
        results.add("steady state, server CPU ms/event", system.name, cost.server_ms)
        # Each entity had one event before the measured ones (``figures._ready``).
        events, size = await figures.history_per_event(system, keys, events=1 + STEADY_EVENTS)
        results.add("steady state, history events per event", system.name, events)
        results.add("steady state, history bytes per event", system.name, size)
    for system in systems[:2]:
        cost, key = await figures.full_life(system, server.pid, orders=orders)
        results.add("full life, orders/s", system.name, cost.per_second)
        shape = await figures.history_shape(system, key)
        results.add("full life, history events", system.name, shape.events)
        results.add("full life, history KiB", system.name, shape.bytes / 1024)
        results.history[system.name] = str(shape)
    for rate, seconds in ((10, 5 if quick else 20), (50, 2 if quick else 10)):
        for system in systems[:2]:
            p50, p99 = await figures.latency(system, rate, seconds, orders=orders)
            results.add(f"event -> stage change at {rate}/s, p50 ms", system.name, p50)
            results.add(f"event -> stage change at {rate}/s, p99 ms", system.name, p99)


def table(results: Results, systems: list[System]) -> str:
    baseline = systems[0].name
    lines = ["| figure | system | median | engine/baseline |", "| --- | --- | --- | --- |"]
    for figure in dict.fromkeys(figure for figure, _ in results.values):
        base = results.median(figure, baseline)
        for system in systems:
            value = results.median(figure, system.name)
            if value is None:
                continue
            ratio = "" if system.name == baseline or not base else f"{value / base:.2f}"
            lines.append(f"| {figure} | {system.name} | {value:.2f} | {ratio} |")
    for system_name, shape in results.history.items():
        lines.append(f"\n{system_name}, one full life: {shape}")
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer orders and shorter runs, to try a change")
    parser.add_argument("--stores", default="sqlite,postgresql", help="the engine's stores, comma-separated")
    args = parser.parse_args()
    results = Results()
    with tempfile.TemporaryDirectory() as folder:
        async with dev_server() as server, systems(server, args.stores.split(","), Path(folder)) as running:
            for round_number in range(1, args.repeat + 1):
                print(f"round {round_number} of {args.repeat}", flush=True)
                await one_round(server, running, results, args.quick)
            print(table(results, running))


if __name__ == "__main__":
    asyncio.run(main())
