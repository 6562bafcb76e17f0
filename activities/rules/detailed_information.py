from typing import Literal, get_args

from pydantic import Field

from activities.rules._variables import PREFIX_PATTERN, as_variables
from activities.rules.base import RuleContext, RuleType, shorten
from automation.rules import RuleParams, RuleResult

CustomerField = Literal["first_name", "last_name", "name", "company", "email", "phone"]


class DetailedInformationParams(RuleParams):
    variables_prefix: str = Field(
        default="customer_", pattern=PREFIX_PATTERN, description="variables are named <prefix><field>"
    )
    fields: list[CustomerField] = Field(
        default_factory=lambda: list(get_args(CustomerField)),
        min_length=1,
        description="which fields of the card: " + ", ".join(get_args(CustomerField)),
    )


async def detailed_information(ctx: RuleContext, params: DetailedInformationParams) -> RuleResult:
    # ctx.values["customer"] is the card as read from the store when this activity started.
    customer = ctx.values.get("customer") or {}
    if not customer:
        return RuleResult(summary="the order has no customer card to read", effective=False)
    variables = as_variables(params.variables_prefix, customer, params.fields)
    summary = f"read {customer.get('name') or customer['id']}'s card into {', '.join(variables)}"
    return RuleResult(summary=shorten(summary, 200), variables=variables)


RULE = RuleType(
    kind="detailed_information",
    title="Detailed information",
    description="reads the customer's (contact/company) card into variables for the rules after it",
    params=DetailedInformationParams,
    run=detailed_information,
)
