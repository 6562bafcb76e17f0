"""The core spec of this rule type; its activity is activities/rules/cancel_order.py."""

from __future__ import annotations

from pydantic import Field

from automation.effects import MoveOrder
from automation.rules import RuleKind, RuleParams


class CancelOrderParams(RuleParams):
    stage: str = Field(default="cancelled", min_length=1, description="the failure stage to move the order to")

    def stage_references(self) -> list[str]:
        return [self.stage]


KIND = RuleKind(
    raises=("shipment_changed",),
    name="cancel_order",
    title="Cancel order",
    description="marks every shipment of the order cancelled and moves the order to a failure stage "
    "(which fires Order cancelled)",
    params=CancelOrderParams,
    effect=MoveOrder,
)
