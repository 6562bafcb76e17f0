"""Control (the source documents' name): notifies a chosen employee. Its activity is
activities/rules/control.py."""

from __future__ import annotations

from pydantic import Field

from automation.models import LooseId
from automation.rules import RESPONSIBLE, RuleKind, RuleParams
from automation.templating import Template


class NotifyEmployeeParams(RuleParams):
    employee_id: LooseId = Field(default=RESPONSIBLE, description="who is notified; 'responsible' = the order's")
    text: Template = Field(min_length=1, max_length=1000)


KIND = RuleKind(
    name="control",
    title="Control",
    description="notifies a chosen employee (from the automation; Notification also sets the sender)",
    params=NotifyEmployeeParams,
)
