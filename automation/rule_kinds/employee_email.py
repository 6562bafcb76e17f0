"""The core spec of this rule type; its activity is activities/rules/employee_email.py."""

from __future__ import annotations

from pydantic import Field

from automation.models import LooseId
from automation.rules import RESPONSIBLE, RuleKind, RuleParams
from automation.templating import Template


class EmployeeEmailParams(RuleParams):
    employee_id: LooseId = Field(default=RESPONSIBLE, description="who gets it; 'responsible' = the order's")
    subject: Template = Field(min_length=1, max_length=255)
    body: Template = Field(min_length=1, max_length=20000, description="plain text; order values allowed")


KIND = RuleKind(
    name="employee_email",
    title="Send e-mail to employee",
    description="e-mails an employee (the responsible by default) over SMTP; does nothing if they have no address",
    params=EmployeeEmailParams,
    sends_messages=True,
)
