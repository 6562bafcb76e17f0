from activities.rules._variables import read_into_variables
from activities.rules.base import RuleContext
from automation.rule_kinds.employee_information import EmployeeInformationParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: EmployeeInformationParams) -> RuleResult:
    employee = await ctx.employee(params.employee_id)
    whose = f"{employee.name}'s record"
    return read_into_variables(whose, params.variables_prefix, employee.model_dump(), params.fields)
