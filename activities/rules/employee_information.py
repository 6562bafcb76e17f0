from activities.rules._variables import as_variables
from activities.rules.base import RuleContext, shorten
from automation.rule_kinds.employee_information import EmployeeInformationParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: EmployeeInformationParams) -> RuleResult:
    employee = await ctx.employee(params.employee_id)
    variables = as_variables(params.variables_prefix, employee.model_dump(), params.fields)
    summary = f"read {employee.name}'s record into {', '.join(variables)}"
    return RuleResult(summary=shorten(summary, 200), variables=variables)
