from typing import Any

from pydantic import Field

from activities.rules._order_fields import FieldValue, describe, render_values, set_order_fields
from activities.rules.base import RuleContext, RuleType
from automation.rules import RuleParams, RuleResult

DETAILS = "details"
"""The order field holding its details (delivery address...), a mapping."""


class EditDetailsParams(RuleParams):
    details: dict[str, FieldValue] = Field(
        min_length=1, description="details to set (e.g. the delivery address), by name; text may use order values"
    )


async def edit_details(ctx: RuleContext, params: EditDetailsParams) -> RuleResult:
    values = await render_values(ctx, params.details)

    def changes(current: dict[str, Any]) -> dict[str, Any]:
        details = current.get(DETAILS)
        # Merged into the details the order has: those not named here are kept.
        return {DETAILS: {**(details if isinstance(details, dict) else {}), **values}}

    changed = await set_order_fields(ctx, changes)
    return RuleResult(summary=f"order details set: {describe(values)}", order_changes=changed)


RULE = RuleType(
    kind="edit_details",
    title="Edit details",
    description="sets details of the order (e.g. the delivery address), keeping the others",
    params=EditDetailsParams,
    run=edit_details,
)
