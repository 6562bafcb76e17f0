"""The minimal entity workflow the engine is measured against: one workflow per entity,
events in through an update that answers the new stage, one activity per event.

It is what an order engine on Temporal can be no faster than: no store, no pipeline, no
timeline, the smallest payloads."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

BASELINE_WORKFLOW = "BenchEntity"
NOTE = "bench_note"


def note_activity(finished: Callable[[str], None]) -> Callable[[str], Any]:
    """The cheap rule: as little work as an activity can do; ``finished`` hears of each."""

    @activity.defn(name=NOTE)
    async def note(entity_id: str) -> None:
        finished(entity_id)

    return note


@workflow.defn(name=BASELINE_WORKFLOW)
class EntityWorkflow:
    def __init__(self) -> None:
        self._events: deque[str] = deque()
        self._stage = 0

    @workflow.update
    async def apply_event(self, event_id: str) -> int:
        """Moves the entity one stage on; answers the stage."""
        self._stage += 1
        self._events.append(event_id)
        return self._stage

    @workflow.run
    async def run(self, entity_id: str, events_to_live: int) -> None:
        """Runs the activity for each event; ends after ``events_to_live`` (0: never)."""
        handled = 0
        while True:
            await workflow.wait_condition(lambda: bool(self._events))
            self._events.popleft()
            await workflow.execute_activity(NOTE, entity_id, start_to_close_timeout=timedelta(seconds=10))
            handled += 1
            if handled == events_to_live:
                return
