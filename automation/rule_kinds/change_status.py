"""The core spec of this rule type; its activity is activities/rules/change_status.py."""

from __future__ import annotations

from pydantic import Field

from automation.effects import MoveOrder
from automation.rules import RuleKind, RuleParams


class ChangeStatusParams(RuleParams):
    stage: str = Field(min_length=1, description="the stage to move the order to")

    def stage_references(self) -> list[str]:
        return [self.stage]


KIND = RuleKind(
    name="change_status",
    title="Change status",
    description="moves the order to another stage; the rest of this stage's rules stop",
    params=ChangeStatusParams,
    effect=MoveOrder,
)
