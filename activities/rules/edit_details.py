from activities.rules._order_fields import set_fields_rule
from activities.rules.base import RuleContext
from automation.rule_kinds.edit_details import SetOrderDetailsParams
from automation.rules import RuleResult

DETAILS = "details"
"""The order field holding its details (delivery address...), a mapping."""


async def run(ctx: RuleContext, params: SetOrderDetailsParams) -> RuleResult:
    return await set_fields_rule(ctx, params.details, into=DETAILS)
