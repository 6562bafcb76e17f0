"""The core spec of this rule type; its activity is activities/rules/detailed_information.py."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from automation.rule_kinds._parts import prefix_parameter
from automation.rules import RuleKind, RuleParams

CustomerField = Literal["first_name", "last_name", "name", "company", "email", "phone"]


class DetailedInformationParams(RuleParams):
    variables_prefix: str = prefix_parameter("customer_")
    fields: list[CustomerField] = Field(
        default_factory=lambda: list(get_args(CustomerField)),
        min_length=1,
        description="which fields of the card: " + ", ".join(get_args(CustomerField)),
    )


KIND = RuleKind(
    name="detailed_information",
    title="Detailed information",
    description="reads the customer's (contact/company) card into variables for the rules after it",
    params=DetailedInformationParams,
)
