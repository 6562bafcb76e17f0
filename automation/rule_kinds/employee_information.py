"""The core spec of this rule type; its activity is activities/rules/employee_information.py."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from automation.models import LooseId
from automation.rule_kinds._parts import IntoVariables, fields_parameter, prefix_parameter
from automation.rules import RESPONSIBLE, RuleKind, RuleParams

EmployeeField = Literal["id", "name", "email", "phone"]


class EmployeeInformationParams(IntoVariables, RuleParams):
    employee_id: LooseId = Field(default=RESPONSIBLE, description="whose record; 'responsible' = the order's")
    variables_prefix: str = prefix_parameter("employee_")
    fields: list[EmployeeField] = fields_parameter(EmployeeField, "the record")


KIND = RuleKind(
    name="employee_information",
    title="Employee information",
    description="reads an employee's record into variables for the rules after it",
    params=EmployeeInformationParams,
)
