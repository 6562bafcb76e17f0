from activities.rules._shipments import mark_every_shipment
from activities.rules.base import RuleContext
from automation.rule_kinds.ship_order import ShipOrderParams
from automation.rules import RuleResult


async def run(ctx: RuleContext, params: ShipOrderParams) -> RuleResult:
    return await mark_every_shipment(ctx, "shipped", status="shipped")
