from typing import Any

from pydantic import Field, field_validator

from activities.rules._order_fields import FieldValue, check_names, describe, render_values, set_order_fields
from activities.rules.base import RuleContext, RuleType
from automation.rules import RuleParams, RuleResult


class EditElementParams(RuleParams):
    fields: dict[str, FieldValue] = Field(
        min_length=1, description="order fields to set, by name; text may use order values"
    )

    @field_validator("fields")
    @classmethod
    def _not_reserved(cls, fields: dict[str, FieldValue]) -> dict[str, FieldValue]:
        check_names(fields)
        return fields


async def edit_element(ctx: RuleContext, params: EditElementParams) -> RuleResult:
    values = await render_values(ctx, params.fields)

    def changes(_current: dict[str, Any]) -> dict[str, Any]:
        return values

    changed = await set_order_fields(ctx, changes)
    return RuleResult(summary=f"order fields set: {describe(changed)}", order_changes=changed)


RULE = RuleType(
    kind="edit_element",
    title="Edit element",
    description="sets fields of the order",
    params=EditElementParams,
    run=edit_element,
)
