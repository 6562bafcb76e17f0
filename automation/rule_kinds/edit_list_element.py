"""The core spec of this rule type; its activity is activities/rules/edit_list_element.py."""

from __future__ import annotations

from pydantic import Field

from automation.rule_kinds._parts import KEY, LIST_ID, ElementValue
from automation.rules import RuleKind, RuleParams
from automation.templating import Template


class EditListElementParams(RuleParams):
    list_id: str = Field(min_length=1, max_length=100, description=LIST_ID)
    key: Template = Field(min_length=1, max_length=200, description=KEY)
    values: dict[str, ElementValue] = Field(
        min_length=1, description="field -> new value (text may use order values); other fields are kept"
    )


KIND = RuleKind(
    name="edit_list_element",
    title="Edit list element",
    description="sets fields of an element of a list; does nothing if it is missing",
    params=EditListElementParams,
    store_only=True,
)
