"""Which trigger, if any, an event sets off on an order. The rule, from the catalog's
"Precise semantics":

1. Candidates are the triggers of the event's type on stages after the current one; a
   trigger that allows moving back is a candidate on every stage, the current included.
2. Candidates are tried in pipeline order, earliest stage first (then in file order).
3. The first whose parameters and condition accept the event wins; the rest are not
   tried: at most one stage change per event per order.
4. A winner on the current stage changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from automation.events import Event
from automation.pipeline import Pipeline, TriggerSpec


@dataclass(frozen=True)
class TriggerDecision:
    target: str | None = None
    trigger: TriggerSpec | None = None
    refused: list[str] = field(default_factory=list)
    """Triggers that would have fired but may not move the order back."""


def _accepts(trigger: TriggerSpec, event: Event, values: Mapping[str, Any]) -> bool:
    if trigger.type != event.type or not trigger.params.matches(event.data):
        return False
    return trigger.condition is None or trigger.condition.holds(values)


def match_trigger(pipeline: Pipeline, current: str, event: Event, values: Mapping[str, Any]) -> TriggerDecision:
    """``values`` are the order's values with the event's under ``event``."""
    here = pipeline.position(current)
    refused: list[str] = []
    for position, stage in enumerate(pipeline.stages):
        for trigger in stage.triggers:
            if not _accepts(trigger, event, values):
                continue
            if position > here or trigger.allow_back:
                return TriggerDecision(stage.id, trigger, refused)
            if position < here:
                refused.append(f"{trigger.label} on {stage.id!r} would move the order back")
    return TriggerDecision(refused=refused)
