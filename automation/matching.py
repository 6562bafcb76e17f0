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
    verdicts: list[str] = field(default_factory=list)
    """With ``explain``: every trigger of the event's type, and what it made of the event."""


def _mismatch(trigger: TriggerSpec, event: Event, values: Mapping[str, Any], explain: bool) -> str | None:
    """Why ``trigger`` (of the event's type) does not accept the event; None if it does."""
    if not trigger.params.matches(event.data):
        wanted = ", ".join(f"{k}={v!r}" for k, v in trigger.params.model_dump(exclude_none=True).items())
        return f"its parameters ({wanted}) do not match the event"
    if trigger.condition is not None and not trigger.condition.holds(values):
        compared = "; ".join(trigger.condition.explained(values)) if explain else str(trigger.condition)
        return f"its condition does not hold ({compared})"
    return None


def match_trigger(
    pipeline: Pipeline, current: str, event: Event, values: Mapping[str, Any], explain: bool = False
) -> TriggerDecision:
    """``values`` are the order's values with the event's under ``event``; ``explain`` (a test
    order) also says what every trigger of the event's type made of it, the winner's followers included."""
    here = pipeline.position(current)
    refused: list[str] = []
    not_matched: list[str] = []
    verdicts: list[str] = []
    winner: tuple[str, TriggerSpec] | None = None
    for position, stage in enumerate(pipeline.stages):
        for trigger in stage.triggers:
            if trigger.type != event.type:
                continue
            name = f"{trigger.label} on {stage.id!r}"
            candidate = position > here or trigger.allow_back
            if winner is not None:
                verdicts.append(f"{name}: not tried, an earlier candidate took the event" if candidate else
                                f"{name}: no candidate (not after the current stage, no moving back)")  # fmt: skip
                continue
            why_not = _mismatch(trigger, event, values, explain)
            if why_not is not None:
                if candidate:
                    not_matched.append(f"{name}: {why_not}")
                verdicts.append(f"{name}: turned it down, {why_not}" if candidate else
                                f"{name}: no candidate (not after the current stage, no moving back)")  # fmt: skip
                continue
            if candidate:
                verdicts.append(f"{name}: accepted it")
                winner = (stage.id, trigger)
                if not explain:
                    break
                continue
            if position < here:
                refused.append(f"{name} would move the order back")
            verdicts.append(f"{name}: matched, but it would move the order back and does not allow it"
                            if position < here else f"{name}: matched, but it is the current stage's "
                            "and does not allow moving back")  # fmt: skip
        if winner is not None and not explain:
            break
    if winner is not None:
        return TriggerDecision(winner[0], winner[1], refused, not_matched, verdicts)
    return TriggerDecision(refused=refused, not_matched=not_matched, verdicts=verdicts)
