"""The core spec of this rule type; its activity is activities/rules/read_list_element.py."""

from __future__ import annotations

from pydantic import Field

from automation.rule_kinds._parts import KEY, LIST_ID, IntoVariables, prefix_parameter
from automation.rules import RuleKind, RuleParams
from automation.templating import Template


class ReadListElementParams(IntoVariables, RuleParams):
    list_id: str = Field(min_length=1, max_length=100, description=LIST_ID)
    key: Template = Field(min_length=1, max_length=200, description=KEY)
    variables_prefix: str = prefix_parameter("list_")


KIND = RuleKind(
    name="read_list_element",
    title="Read list element",
    description="reads an element of a list into variables for the rules after it; does nothing if it is missing",
    params=ReadListElementParams,
    store_only=True,
)
