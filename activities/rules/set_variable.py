from typing import Any

from activities.rules.base import RuleContext, refuse
from automation.rule_kinds._parts import FieldValue
from automation.rule_kinds.set_variable import SetVariableParams
from automation.rules import RuleResult
from automation.variables import calculate


async def run(ctx: RuleContext, params: SetVariableParams) -> RuleResult:
    now = ctx.values.get("variables", {}).get(params.variable)
    start = now if params.value is None else await _rendered(ctx, params.value)
    try:
        value = calculate(start, params.operation, await _rendered(ctx, params.by))
    except ValueError as err:
        raise refuse(f"variables.{params.variable}: {err}") from None
    # The order reads the value as the variable's declared type, and refuses it if it is not one.
    return RuleResult(summary=f"{params.variable} = {value!r}", variables={params.variable: value})


async def _rendered(ctx: RuleContext, value: FieldValue) -> Any:
    return await ctx.render(value) if isinstance(value, str) else value
