"""Each figure of the benchmark, measured the same way on either system."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import History
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

from bench.harness import cpu_seconds, percentile
from bench.systems import System


@dataclass(frozen=True)
class Cost:
    """Throughput and CPU of one measured stretch."""

    per_second: float
    worker_ms: float
    """CPU of this process (the worker and the client) per unit, in ms."""
    server_ms: float


async def _measured(server_pid: int, units: int, work: Callable[[], Awaitable[None]]) -> Cost:
    cpu, server, start = cpu_seconds(), cpu_seconds(server_pid), time.perf_counter()
    await work()
    elapsed = time.perf_counter() - start
    return Cost(
        per_second=units / elapsed,
        worker_ms=(cpu_seconds() - cpu) * 1000 / units,
        server_ms=(cpu_seconds(server_pid) - server) * 1000 / units,
    )


def _keys(count: int) -> list[str]:
    run = uuid.uuid4().hex[:8]
    return [f"{run}-{i}" for i in range(count)]


async def _event_and_rule(system: System, key: str, number: int) -> None:
    await system.move(key, number)
    await system.finished.next(key)


async def _ready(system: System, keys: list[str]) -> None:
    """Entities created and past their first event, so that what follows is steady."""
    await asyncio.gather(*(system.create(key) for key in keys))
    await asyncio.gather(*(_event_and_rule(system, key, 1) for key in keys))
    await system.settled(keys, events=1)


async def steady_state(system: System, server_pid: int, orders: int = 100, events: int = 10) -> tuple[Cost, list[str]]:
    """``orders`` at once, each sent ``events`` events, the next once the rule of the last has
    finished; measured until all the work they caused is done (``System.settled``). Also
    answers the entities' keys."""
    keys = _keys(orders)
    await _ready(system, keys)

    async def one_entity(key: str) -> None:
        for number in range(2, events + 2):
            await _event_and_rule(system, key, number)

    async def all_entities() -> None:
        await asyncio.gather(*(one_entity(key) for key in keys))
        await system.settled(keys, events=1 + events)

    return await _measured(server_pid, orders * events, all_entities), keys


async def full_life(system: System, server_pid: int, orders: int = 100, at_once: int = 20) -> tuple[Cost, str]:
    """Start, one event, one rule, done; ``at_once`` entities in flight. Also answers one
    entity's key, whose history is a full life's."""
    keys = _keys(orders)
    slots = asyncio.Semaphore(at_once)

    async def one_life(key: str) -> None:
        async with slots:
            await system.full_life(key)

    async def all_lives() -> None:
        await asyncio.gather(*(one_life(key) for key in keys))

    return await _measured(server_pid, orders, all_lives), keys[-1]


@dataclass(frozen=True)
class HistoryShape:
    events: int
    bytes: int
    kinds: Counter[str]

    def __str__(self) -> str:
        wanted = {"MARKER_RECORDED": "markers", "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES": "upserts",
                  "WORKFLOW_TASK_COMPLETED": "workflow tasks", "ACTIVITY_TASK_SCHEDULED": "activities"}  # fmt: skip
        parts = [f"{self.kinds[kind]} {name}" for kind, name in wanted.items() if self.kinds[kind]]
        return f"{self.events} events, {self.bytes / 1024:.1f} KiB ({', '.join(parts)})"


async def history_per_event(system: System, keys: list[str], events: int, sample: int = 10) -> tuple[float, float]:
    """History events and bytes per event of the entities ``keys`` (the first ``sample`` of
    them), each sent ``events`` events since it was created."""
    shapes = [await history_shape(system, key) for key in keys[:sample]]
    sent = events * len(shapes)
    return sum(shape.events for shape in shapes) / sent, sum(shape.bytes for shape in shapes) / sent


async def history_shape(system: System, key: str) -> HistoryShape:
    events = await system.history(key)
    kinds = Counter(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in events)
    return HistoryShape(len(events), History(events=events).ByteSize(), kinds)


async def latency(system: System, rate: float, seconds: float, orders: int = 100) -> tuple[float, float]:
    """Event -> stage change (the update's answer), events sent at ``rate`` per second
    whatever the answers (open loop), spread over ``orders``; p50 and p99 in ms. An event
    not answered in time (the system is past its capacity) counts as infinitely late."""
    keys = _keys(orders)
    await _ready(system, keys)
    count = int(rate * seconds)
    took: list[float] = []

    async def send(i: int, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        start = time.perf_counter()
        try:
            await system.move(keys[i % orders], 2 + i // orders)
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            took.append(math.inf)
            return
        took.append((time.perf_counter() - start) * 1000)

    begin = time.perf_counter()
    await asyncio.gather(*(send(i, begin + i / rate) for i in range(count)))
    return percentile(took, 0.5), percentile(took, 0.99)
