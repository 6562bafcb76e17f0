from typing import Any

from activities.rules._order_fields import describe, render_values, set_order_fields
from activities.rules.base import RuleContext
from automation.rule_kinds.edit_element import EditElementParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: EditElementParams) -> RuleResult:
    values = await render_values(ctx, params.fields)

    def changes(_current: dict[str, Any]) -> dict[str, Any]:
        return values

    changed = await set_order_fields(ctx, changes)
    return RuleResult(summary=f"order fields set: {describe(changed)}", order_changes=changed)
