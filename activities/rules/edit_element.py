from activities.rules._order_fields import set_fields_rule
from activities.rules.base import RuleContext
from automation.rule_kinds.edit_element import SetOrderFieldsParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: SetOrderFieldsParams) -> RuleResult:
    return await set_fields_rule(ctx, params.fields)
