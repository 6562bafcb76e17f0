"""What the workflow and a rule activity exchange. The rule types themselves live in
``activities/rules/``, one module each, listed in ``activities/registry.py``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from automation.models import EdgeStrict


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
