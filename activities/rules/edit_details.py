from typing import Any

from activities.rules._order_fields import describe, render_values, set_order_fields
from activities.rules.base import RuleContext
from automation.rule_kinds.edit_details import EditDetailsParams
from automation.rules import RuleResult

DETAILS = "details"
"""The order field holding its details (delivery address...), a mapping."""


async def run(ctx: RuleContext, params: EditDetailsParams) -> RuleResult:
    values = await render_values(ctx, params.details)

    def changes(current: dict[str, Any]) -> dict[str, Any]:
        details = current.get(DETAILS)
        # Merged into the details the order has: those not named here are kept.
        return {DETAILS: {**(details if isinstance(details, dict) else {}), **values}}

    changed = await set_order_fields(ctx, changes)
    return RuleResult(summary=f"order details set: {describe(values)}", order_changes=changed)
