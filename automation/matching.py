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
    not_matched: list[str] = field(default_factory=list)
    """Candidates of the event's type whose parameters or condition turned the event down."""


def _mismatch(trigger: TriggerSpec, event: Event, values: Mapping[str, Any]) -> str | None:
    """Why ``trigger`` (of the event's type) does not accept the event; None if it does."""
    if not trigger.params.matches(event.data):
        wanted = ", ".join(f"{k}={v!r}" for k, v in trigger.params.model_dump(exclude_none=True).items())
        return f"its parameters ({wanted}) do not match the event"
    if trigger.condition is not None and not trigger.condition.holds(values):
        return f"its condition does not hold ({trigger.condition})"
    return None


def match_trigger(pipeline: Pipeline, current: str, event: Event, values: Mapping[str, Any]) -> TriggerDecision:
    """``values`` are the order's values with the event's under ``event``."""
    here = pipeline.position(current)
    refused: list[str] = []
    not_matched: list[str] = []
    for position, stage in enumerate(pipeline.stages):
        for trigger in stage.triggers:
            if trigger.type != event.type:
                continue
            candidate = position > here or trigger.allow_back
            why_not = _mismatch(trigger, event, values)
            if why_not is not None:
                if candidate:
                    not_matched.append(f"{trigger.label} on {stage.id!r}: {why_not}")
                continue
            if candidate:
                return TriggerDecision(stage.id, trigger, refused, not_matched)
            if position < here:
                refused.append(f"{trigger.label} on {stage.id!r} would move the order back")
    return TriggerDecision(refused=refused, not_matched=not_matched)
