"""The core spec of this rule type; its activity is activities/rules/wait.py."""

from __future__ import annotations

from pydantic import Field

from automation.delays import Delay
from automation.effects import HoldForCustomer
from automation.rules import RuleKind, RuleParams
from automation.templating import Template


class WaitParams(RuleParams):
    timeout: Delay | None = Field(
        default=None, description="give up waiting then (after 3d, at a time, or at a date field)"
    )
    notify_text: Template = Field(
        default="Order {{ order.number or order.id }}: {{ wait.reason }}",
        max_length=1000,
        description="what the responsible employee is told when the wait ends",
    )

    def effect_before_action(self) -> HoldForCustomer:
        return HoldForCustomer(timeout=self.timeout)


KIND = RuleKind(
    name="wait",
    title="Wait",
    description="holds its chain until any customer activity or a deadline, then notifies the responsible",
    params=WaitParams,
    effect=HoldForCustomer,
)
