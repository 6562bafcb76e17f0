"""What a rule does to the order's workflow itself, beyond its activity's work: one typed
mechanism the stage runner reads, whatever the rule.

A rule kind declares the effect it may have (``RuleKind.effect``). ``HoldForCustomer``
comes from the rule's params before its activity runs (``RuleParams.effect_before_action``);
the others come back in the activity's result (``RuleResult.effect``). A new rule that
moves the order, ends it, holds its chain or starts a workflow uses one of these and needs
nothing new in the workflow code.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from automation.delays import Delay


class MoveOrder(BaseModel):
    """Moves the order to ``stage``: the rest of this stage's rules stop (Change status,
    Cancel order)."""

    kind: Literal["move_order"] = "move_order"
    stage: str


class EndOrder(BaseModel):
    """The order is gone (Delete order): its rules stop, it takes no more events, its
    workflow completes once the store has everything."""

    kind: Literal["end_order"] = "end_order"


class StartChildWorkflow(BaseModel):
    """Starts a workflow of ``automation/children.py`` as the order's child, abandoned when
    the order moves on (Start workflow)."""

    kind: Literal["start_child_workflow"] = "start_child_workflow"
    workflow: str = Field(description="a name from automation/children.py")
    input: dict[str, Any] = Field(default_factory=dict)


class HoldForCustomer(BaseModel):
    """Holds the rule's chain until customer activity after it began, or the deadline; the
    rule's activity runs then (Wait)."""

    kind: Literal["hold_for_customer"] = "hold_for_customer"
    timeout: Delay | None = None


ResultEffect = Annotated[MoveOrder | EndOrder | StartChildWorkflow, Field(discriminator="kind")]
"""An effect a rule's activity hands back."""
Effect = MoveOrder | EndOrder | StartChildWorkflow | HoldForCustomer
