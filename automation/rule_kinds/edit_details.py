"""The core spec of this rule type; its activity is activities/rules/edit_details.py."""

from __future__ import annotations

from pydantic import Field

from automation.rule_kinds._parts import FieldValue
from automation.rules import RuleKind, RuleParams


class SetOrderDetailsParams(RuleParams):
    details: dict[str, FieldValue] = Field(
        min_length=1, description="details to set (e.g. the delivery address), by name; text may use order values"
    )


KIND = RuleKind(
    name="edit_details",
    title="Edit details",
    description="sets details of the order (e.g. the delivery address), keeping the others",
    params=SetOrderDetailsParams,
    store_only=True,
)
