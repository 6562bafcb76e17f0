"""What the workflow and a rule activity exchange. The rule types themselves live in
``activities/rules/``, one module each, listed in ``activities/registry.py``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from automation import limits
from automation.models import EdgeStrict, json_size

if TYPE_CHECKING:
    from automation.state import OrderState


class RuleParams(EdgeStrict):
    """Typed parameters of one rule type; strict in a pipeline file, so a typo is refused."""

    def stage_references(self) -> list[str]:
        """Stage ids these parameters name, checked against the pipeline at load."""
        return []


class RuleInput(BaseModel):
    """The single input of every rule activity."""

    order_id: str
    run_key: str = Field(description="order/stage-visit/rule: the idempotency key of this run")
    stage: str
    rule_index: int
    rule_type: str
    params: dict[str, Any] = Field(description="validated again by the rule type's model")
    values: dict[str, Any] = Field(
        description="order, variables, constants, trigger (and wait) values at the time it runs"
    )


class RaisedEvent(BaseModel):
    """An event the engine itself causes (an e-mail sent, a responsible changed...); the
    workflow gives it an id and a time and handles it like any other."""

    type: str
    data: dict[str, Any] = Field(default_factory=dict)


class ChildWorkflowRequest(BaseModel):
    """A workflow the order starts as its child (the Start workflow rule)."""

    workflow: str = Field(description="a name from workflows/children.py")
    input: dict[str, Any] = Field(default_factory=dict)


class RuleResult(BaseModel):
    """What a rule did, and what it hands back to the order."""

    summary: str = Field(description="one line for the timeline")
    effective: bool = Field(default=True, description="False: ran, but had nothing to act on")
    variables: dict[str, Any] = Field(default_factory=dict, description="for the rules after it")
    order_changes: dict[str, Any] = Field(default_factory=dict, description="order fields it set")
    move_to: str | None = Field(default=None, description="stage to move the order to")
    events: list[RaisedEvent] = Field(default_factory=list, description="events it caused")
    end_order: bool = Field(default=False, description="the order was deleted: its workflow ends")
    child_workflow: ChildWorkflowRequest | None = Field(default=None, description="for the workflow to start")
    unconfirmed: int = Field(default=0, description="messages it may or may not have sent (for an operator)")

    def problems(self) -> list[str]:
        """What makes this result too big for an order to take (none when it fits)."""
        found = []
        for what, value, most in (
            ("variables", self.variables, limits.VARIABLES_BYTES),
            ("order changes", self.order_changes, limits.FIELDS_BYTES),
        ):
            if (size := json_size(value)) > most:
                found.append(f"its {what} are {size:,} bytes of JSON; at most {most:,}")
        if len(self.events) > limits.RULE_EVENTS:
            found.append(f"it raises {len(self.events)} events; at most {limits.RULE_EVENTS}")
        biggest = max((json_size(event.data) for event in self.events), default=0)
        if biggest > limits.EVENT_BYTES:
            found.append(f"it raises an event of {biggest:,} bytes of JSON; at most {limits.EVENT_BYTES:,}")
        responsible = self.order_changes.get("responsible_id")
        if responsible is not None and (not isinstance(responsible, str) or len(responsible) > limits.ID_CHARS):
            found.append(f"the responsible id it sets is not an id of at most {limits.ID_CHARS} characters")
        return found


def result_problem(state: OrderState, result: RuleResult) -> str | None:
    """Why the order cannot take ``result``: too big by itself, or the order's variables or
    fields would outgrow their limits with it. None when it fits."""
    problems = result.problems()
    for what, current, changes, most in (
        ("variables", state.variables, result.variables, limits.VARIABLES_BYTES),
        ("fields", state.fields, result.order_changes, limits.FIELDS_BYTES),
    ):
        if changes and (size := json_size({**current, **changes})) > most:
            problems.append(f"the order's {what} would be {size:,} bytes of JSON; at most {most:,}")
    return "; ".join(problems) or None
