"""The core spec of this rule type; its activity is activities/rules/employee_sms.py."""

from __future__ import annotations

from pydantic import Field

from automation.models import LooseId
from automation.rule_kinds._parts import SmsParams
from automation.rules import RESPONSIBLE, RuleKind


class EmployeeSmsParams(SmsParams):
    employee_id: LooseId = Field(default=RESPONSIBLE, description="who gets it; 'responsible' = the order's")


KIND = RuleKind(
    name="employee_sms",
    title="SMS to an employee",
    description="texts an employee (the responsible by default) through the SMS provider",
    params=EmployeeSmsParams,
    sends_messages=True,
)
