"""The two systems under measurement, behind one interface: the minimal entity workflow
(``baseline.py``) and the engine (its order workflow, its worker, its store)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateStage
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from activities.orders import OrderActivities
from activities.registry import IMPLEMENTATIONS
from activities.rule_activities import rule_activity
from activities.rules.base import WorkerResources
from automation.contracts import SAVE_ORDER, SaveOrderInput
from automation.order import NewOrder, workflow_id
from automation.pipeline import Pipeline, parse_pipeline
from automation.rule_kinds import RULE_KINDS
from automation.rules import RuleInput, RuleResult
from automation.state import TimelineEntry
from bench.baseline import BASELINE_WORKFLOW, EntityWorkflow, note_activity
from bench.harness import Finished
from config import Settings
from order_client import OrderClient
from providers.mail import SmtpMailer
from store.database import session
from store.pipelines import save_pipeline
from worker import build_worker

WRITE_TO_LOG = "write_to_log"
"""The steady state's one cheap rule (``STEADY``)."""
STAGES = 12
"""Enough stages for every figure: each event moves an order one stage on."""


class System(Protocol):
    name: str
    finished: Finished

    async def create(self, key: str) -> None:
        """An entity waiting for events."""
        ...

    async def move(self, key: str, number: int) -> None:
        """Sends the entity its ``number``-th event; returns once it has moved."""
        ...

    async def full_life(self, key: str) -> None:
        """Starts an entity with its one event; returns once it has run its rule and ended."""
        ...

    async def history(self, key: str) -> Sequence[HistoryEvent]: ...

    async def settled(self, keys: Sequence[str], events: int) -> None:
        """Until all the work of the entities' first ``events`` events is done (for the engine:
        its store has them and the rule of the last), so that a measurement leaves none out."""
        ...


class Baseline:
    name = "minimal entity workflow"

    def __init__(self, client: Client, task_queue: str, finished: Finished) -> None:
        self._client, self._task_queue, self.finished = client, task_queue, finished

    def _id(self, key: str) -> str:
        return f"entity-{key}"

    async def create(self, key: str) -> None:
        await self._client.start_workflow(
            BASELINE_WORKFLOW, args=[key, 0], id=self._id(key), task_queue=self._task_queue
        )

    async def move(self, key: str, number: int) -> None:
        await self._client.get_workflow_handle(self._id(key)).execute_update(
            EntityWorkflow.apply_event, f"{key}-{number}", id=f"{key}-{number}"
        )

    async def full_life(self, key: str) -> None:
        start: WithStartWorkflowOperation[Any, None] = WithStartWorkflowOperation(
            BASELINE_WORKFLOW, args=[key, 1], id=self._id(key), task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )  # fmt: skip
        await self._client.start_update_with_start_workflow(
            EntityWorkflow.apply_event, f"{key}-0", id=f"{key}-0",
            start_workflow_operation=start, wait_for_stage=WorkflowUpdateStage.COMPLETED,
        )  # fmt: skip
        await (await start.workflow_handle()).result()

    async def history(self, key: str) -> Sequence[HistoryEvent]:
        return (await self._client.get_workflow_handle(self._id(key)).fetch_history()).events

    async def settled(self, keys: Sequence[str], events: int) -> None:
        return  # nothing outlives its activity: there is no store


def _stage(number: int) -> str:
    rules = f'[{{type: {WRITE_TO_LOG}, params: {{message: "order {{{{ order.id }}}} reached s{number}"}}}}]'
    final = ", final: success" if number == STAGES - 1 else ""
    return f"  - {{id: s{number}, title: Stage {number}, triggers: [{{type: form_submitted}}], rules: {rules}{final}}}"


STEADY = parse_pipeline(
    "id: bench-steady\ntitle: Bench\nstages:\n  - {id: s0, title: Start}\n"
    + "\n".join(_stage(n) for n in range(1, STAGES))
)
"""Each event moves the order one stage on, where one cheap rule (Write to log) runs."""
LIFE = parse_pipeline("""
id: bench-life
title: Bench full life
stages:
  - {id: new, title: New}
  - {id: done, title: Done, final: success, triggers: [{type: form_submitted}], rules: [{type: delete_order}]}
""")
"""Start, one event, one rule (Delete order), and the order's workflow is done."""


def _event(key: str, number: int) -> dict[str, Any]:
    return {"event_id": f"{key}-{number}", "type": "form_submitted", "data": {"form_id": "f"},
            "occurred_at": datetime.now(UTC).isoformat()}  # fmt: skip


class StoreProgress:
    """How far the engine's store has each order's timeline: its stage changes, and whether
    the rule of the last one has ended there."""

    def __init__(self) -> None:
        self._moves: dict[str, set[int]] = defaultdict(set)
        """The sequence numbers of each order's stage changes."""
        self._last_end: dict[str, int] = defaultdict(int)
        self._written = asyncio.Event()

    def written(self, order_id: str, entries: Sequence[TimelineEntry]) -> None:
        for entry in entries:
            if entry.kind == "stage_changed":
                self._moves[order_id].add(entry.seq)
            elif entry.kind in ("rule_finished", "rule_failed"):
                self._last_end[order_id] = max(self._last_end[order_id], entry.seq)
        self._written.set()
        self._written = asyncio.Event()

    def _caught_up(self, key: str, moves: int) -> bool:
        seen = self._moves[key]
        return len(seen) >= moves and self._last_end[key] > max(seen, default=0)

    async def caught_up(self, keys: Sequence[str], moves: int, patience: float = 60) -> None:
        """Until the store has ``moves`` stage changes of each order, and the end of the rule of the last."""
        deadline = time.monotonic() + patience
        while behind := [key for key in keys if not self._caught_up(key, moves)]:
            try:
                await asyncio.wait_for(self._written.wait(), deadline - time.monotonic())
            except TimeoutError:
                raise RuntimeError(f"the store lags behind {len(behind)} orders after {patience} s, "
                                   f"e.g. {behind[0]}") from None  # fmt: skip


@dataclass
class Heard:
    """What the engine's worker tells the benchmark."""

    finished: Finished = field(default_factory=Finished)
    """A rule's activity has run (where the baseline's ``note`` tells it): the next event may go."""
    stored: StoreProgress = field(default_factory=StoreProgress)


def _telling(heard: Heard, deps: WorkerResources) -> dict[str, Callable[..., Any]]:
    """The engine's Write to log and store write, telling ``heard`` of each rule's run and of
    its end in the store (the store may lag a rule or more behind: an order that
    gets its next event as a rule ends writes once for both)."""
    kind = RULE_KINDS[WRITE_TO_LOG]
    real_rule = rule_activity(kind, IMPLEMENTATIONS[WRITE_TO_LOG], deps)
    real_write = OrderActivities(deps.engine, deps.writes).save_order

    @activity.defn(name=WRITE_TO_LOG)
    async def write_to_log(input: RuleInput) -> RuleResult:
        result: RuleResult = await real_rule(input)
        heard.finished.heard(input.order_id)
        return result

    @activity.defn(name=SAVE_ORDER)
    async def save_order(input: SaveOrderInput) -> int | None:
        newest = await real_write(input)
        heard.stored.written(input.order.order_id, input.entries)
        return newest

    return {WRITE_TO_LOG: write_to_log, SAVE_ORDER: save_order}


class Engine:
    def __init__(self, client: Client, task_queue: str, heard: Heard, name: str) -> None:
        self._client, self._stored, self.finished, self.name = client, heard.stored, heard.finished, name
        self._orders = OrderClient(client, task_queue=task_queue)

    async def create(self, key: str) -> None:
        await self._orders.create_order(NewOrder(order_id=key, pipeline_id=STEADY.id))

    async def move(self, key: str, number: int) -> None:
        await self._orders.apply_event(key, _event(key, number))

    async def full_life(self, key: str) -> None:
        await self._orders.apply_event(NewOrder(order_id=key, pipeline_id=LIFE.id), _event(key, 0))
        await self._orders.handle(key).result()

    async def history(self, key: str) -> Sequence[HistoryEvent]:
        return (await self._client.get_workflow_handle(workflow_id(key)).fetch_history()).events

    async def settled(self, keys: Sequence[str], events: int) -> None:
        await self._stored.caught_up(keys, moves=events)


async def _seed(engine: AsyncEngine, *pipelines: Pipeline) -> None:
    async with session(engine) as db:
        for pipeline in pipelines:
            await save_pipeline(db, pipeline)
        await db.commit()


@asynccontextmanager
async def running_baseline(client: Client) -> AsyncIterator[Baseline]:
    finished = Finished()
    task_queue = f"bench-baseline-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        client, task_queue=task_queue, workflows=[EntityWorkflow], activities=[note_activity(finished.heard)]
    )
    async with worker:
        yield Baseline(client, task_queue, finished)


@asynccontextmanager
async def running_engine(client: Client, engine: AsyncEngine, name: str) -> AsyncIterator[Engine]:
    """The engine's worker, as ``worker.py`` builds it, on its own task queue and store."""
    await _seed(engine, STEADY, LIFE)
    heard = Heard()
    task_queue = f"bench-engine-{uuid.uuid4().hex[:8]}"
    deps = WorkerResources(
        engine=engine, mailer=SmtpMailer(host="127.0.0.1", port=1), settings=Settings(tracking_secret="bench")
    )
    worker = build_worker(client, deps, task_queue=task_queue, replacements=_telling(heard, deps))
    async with worker:
        yield Engine(client, task_queue, heard, name)
