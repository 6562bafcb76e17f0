"""The core spec of this rule type; its activity is activities/rules/create_list_element.py."""

from __future__ import annotations

from pydantic import Field

from automation.rule_kinds._parts import KEY, LIST_ID, ElementValue
from automation.rules import RuleKind, RuleParams
from automation.templating import Template


class CreateListElementParams(RuleParams):
    list_id: str = Field(min_length=1, max_length=100, description=LIST_ID)
    key: Template = Field(min_length=1, max_length=200, description=KEY)
    values: dict[str, ElementValue] = Field(
        default_factory=dict, description="field -> value (text may use order values), checked against the list's types"
    )


KIND = RuleKind(
    name="create_list_element",
    title="Create list element",
    description="adds an element to a list an admin defined; does nothing if the key is taken there",
    params=CreateListElementParams,
    store_only=True,
)
