from activities.rules._variables import read_into_variables
from activities.rules.base import RuleContext
from automation.rule_kinds.detailed_information import DetailedInformationParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: DetailedInformationParams) -> RuleResult:
    # ctx.values["customer"] is the card as read from the store when this activity started.
    customer = ctx.values.get("customer") or {}
    if not customer:
        return RuleResult(summary="the order has no customer card to read", effective=False)
    whose = f"{customer.get('name') or customer['id']}'s card"
    return read_into_variables(whose, params.variables_prefix, customer, params.fields)
