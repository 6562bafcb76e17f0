from activities.rules._variables import as_variables
from activities.rules.base import RuleContext, shorten
from automation.rule_kinds.detailed_information import DetailedInformationParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: DetailedInformationParams) -> RuleResult:
    # ctx.values["customer"] is the card as read from the store when this activity started.
    customer = ctx.values.get("customer") or {}
    if not customer:
        return RuleResult(summary="the order has no customer card to read", effective=False)
    variables = as_variables(params.variables_prefix, customer, params.fields)
    summary = f"read {customer.get('name') or customer['id']}'s card into {', '.join(variables)}"
    return RuleResult(summary=shorten(summary, 200), variables=variables)
