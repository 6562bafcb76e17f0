"""The core spec of this rule type; its activity is activities/rules/edit_element.py."""

from __future__ import annotations

from pydantic import Field, field_validator

from automation.rule_kinds._parts import FieldValue, check_names
from automation.rules import RuleKind, RuleParams


class SetOrderFieldsParams(RuleParams):
    fields: dict[str, FieldValue] = Field(
        min_length=1, description="order fields to set, by name; text may use order values"
    )

    @field_validator("fields")
    @classmethod
    def _not_reserved(cls, fields: dict[str, FieldValue]) -> dict[str, FieldValue]:
        check_names(fields)
        return fields


KIND = RuleKind(
    name="edit_element",
    title="Edit element",
    description="sets fields of the order",
    params=SetOrderFieldsParams,
    store_only=True,
)
