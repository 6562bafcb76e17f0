"""The core spec of this rule type; its activity is activities/rules/change_responsible.py."""

from __future__ import annotations

from pydantic import Field

from automation.models import LooseId
from automation.rules import RuleKind, RuleParams


class ChangeResponsibleParams(RuleParams):
    employee_id: LooseId = Field(min_length=1, description="the new responsible employee")


KIND = RuleKind(
    raises=("responsible_changed",),
    name="change_responsible",
    title="Change responsible",
    description="changes the order's responsible employee",
    params=ChangeResponsibleParams,
    store_only=True,
)
