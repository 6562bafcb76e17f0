"""Comparing the store with Temporal's histories, entry by entry: the timeline an order's
histories make when they are replayed (collecting what its workflow hands its store write),
against the timeline rows the store holds. Used by the store tests and the fault suite."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import (
    Interceptor,
    Replayer,
    StartLocalActivityInput,
    UnsandboxedWorkflowRunner,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)
from temporalio.workflow import ActivityHandle

from automation.order import workflow_id
from store.database import session
from store.orders import read_timeline
from workflows.order import OrderWorkflow


class _Timelines(Interceptor):
    """Collects, while histories replay, the timeline entries each order's workflow stores."""

    def __init__(self) -> None:
        self.entries: dict[int, dict[str, Any]] = {}

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        collected = self.entries

        class Outbound(WorkflowOutboundInterceptor):
            def start_local_activity(self, input: StartLocalActivityInput) -> ActivityHandle[Any]:
                if input.activity == "save_order":
                    for entry in input.args[0].entries:
                        collected[entry.seq] = entry.model_dump(mode="json")
                return super().start_local_activity(input)

        class Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(Outbound(outbound))

        return Inbound


def _same_times(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**entry, "at": entry["at"].replace("+00:00", "Z")} for entry in entries]


async def replayed_timeline(client: Client, order_id: str) -> list[dict[str, Any]]:
    """The order's timeline as its histories (every run) make it."""
    timelines = _Timelines()
    replayer = Replayer(
        workflows=[OrderWorkflow],
        data_converter=client.data_converter,
        interceptors=[timelines],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    runs = [e async for e in client.list_workflows(f"WorkflowId = '{workflow_id(order_id)}'")]
    for run in sorted(runs, key=lambda execution: execution.start_time):
        history = await client.get_workflow_handle(run.id, run_id=run.run_id).fetch_history()
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, result.replay_failure
    return _same_times([timelines.entries[seq] for seq in sorted(timelines.entries)])


async def stored_timeline(store: AsyncEngine, order_id: str) -> list[dict[str, Any]]:
    async with session(store) as db:
        rows = await read_timeline(db, order_id)
    fields = ("seq", "kind", "stage", "message", "data")
    return _same_times([{name: getattr(row, name) for name in fields} | {"at": row.at.isoformat()} for row in rows])


async def differences(client: Client, store: AsyncEngine, order_id: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The stored timeline, and where it differs from the histories' (nothing, when all is well)."""
    stored, replayed = await stored_timeline(store, order_id), await replayed_timeline(client, order_id)
    found = []
    if [entry["seq"] for entry in stored] != list(range(1, len(stored) + 1)):
        found.append("the stored entries are not numbered 1, 2, 3...")
    found += [f"entry {mine['seq']} differs" for mine, truth in zip(stored, replayed, strict=False) if mine != truth]
    if len(stored) != len(replayed):
        found.append(f"{len(stored)} entries stored, {len(replayed)} in the histories")
    return stored, found


def received(timeline: list[dict[str, Any]]) -> list[str]:
    """The ids of the events an order took (once each), or found it had seen before."""
    return [e["data"]["event"]["event_id"] for e in timeline if e["kind"] in ("event_received", "event_duplicate")]
