"""The core spec of this rule type; its activity is activities/rules/detailed_information.py."""

from __future__ import annotations

from typing import Literal

from automation.rule_kinds._parts import IntoVariables, fields_parameter, prefix_parameter
from automation.rules import RuleKind, RuleParams

CustomerField = Literal["first_name", "last_name", "name", "company", "email", "phone"]


class DetailedInformationParams(IntoVariables, RuleParams):
    variables_prefix: str = prefix_parameter("customer_")
    fields: list[CustomerField] = fields_parameter(CustomerField, "the card")


KIND = RuleKind(
    name="detailed_information",
    title="Detailed information",
    description="reads the customer's (contact/company) card into variables for the rules after it",
    params=DetailedInformationParams,
)
