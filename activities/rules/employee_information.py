from typing import Literal, get_args

from pydantic import Field

from activities.rules._variables import PREFIX_PATTERN, as_variables
from activities.rules.base import RESPONSIBLE, RuleContext, RuleType, shorten
from automation.models import LooseId
from automation.rules import RuleParams, RuleResult

EmployeeField = Literal["id", "name", "email", "phone"]


class EmployeeInformationParams(RuleParams):
    employee_id: LooseId = Field(default=RESPONSIBLE, description="whose record; 'responsible' = the order's")
    variables_prefix: str = Field(
        default="employee_", pattern=PREFIX_PATTERN, description="variables are named <prefix><field>"
    )
    fields: list[EmployeeField] = Field(
        default_factory=lambda: list(get_args(EmployeeField)),
        min_length=1,
        description="which fields of the record: " + ", ".join(get_args(EmployeeField)),
    )


async def employee_information(ctx: RuleContext, params: EmployeeInformationParams) -> RuleResult:
    employee = await ctx.employee(params.employee_id)
    variables = as_variables(params.variables_prefix, employee.model_dump(), params.fields)
    summary = f"read {employee.name}'s record into {', '.join(variables)}"
    return RuleResult(summary=shorten(summary, 200), variables=variables)


RULE = RuleType(
    kind="employee_information",
    title="Employee information",
    description="reads an employee's record into variables for the rules after it",
    params=EmployeeInformationParams,
    run=employee_information,
)
